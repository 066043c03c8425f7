"""Customer and machine archives (客户档案, 设备档案) and product models."""
