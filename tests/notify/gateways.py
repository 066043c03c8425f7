"""A real SMS gateway class for the tests, configured through NOTIFY_SMS_GATEWAY like any other:
it fails a set number of times (a provider that is down for a while), then delivers."""


class FlakyGateway:
    failures_left = 0
    delivered: list[tuple[str, str]] = []

    @classmethod
    def reset(cls, failures: int = 0) -> None:
        cls.failures_left, cls.delivered = failures, []

    def send(self, phone: str, text: str, *, message_id: str = "") -> None:
        if FlakyGateway.failures_left > 0:
            FlakyGateway.failures_left -= 1
            raise ConnectionError("gateway unreachable")
        FlakyGateway.delivered.append((phone, text))
