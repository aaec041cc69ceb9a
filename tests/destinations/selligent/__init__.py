"""Tests of the Selligent sandbox, client and adapter, over real HTTP on 127.0.0.1."""
