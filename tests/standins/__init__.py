"""Local stand-ins for Microsoft's cloud services (Azure AD, Graph, Power Apps, Dataverse).

Each module holds one service: a class keeping its state and a way to serve it on loopback, with
the documented request and response shapes (``../shared/reference/cloud-apis.md``). They are
used only by the tests; the product never imports them.
"""
