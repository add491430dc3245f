"""The API namespaces (``client.files``, ``client.stt``, ``client.auth`` …), one module each.

Every operation is a flow written once (see :mod:`soniox.resources._base`); the ``Foo`` and
``AsyncFoo`` classes in each module only bind those flows to the blocking or asyncio client.
"""
