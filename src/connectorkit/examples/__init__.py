"""Example APIs shipped with connectorkit, so that ``connectorkit quickstart`` (and anyone trying
the tool) has a real REST API to build a connector for without leaving the machine."""
