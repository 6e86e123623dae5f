"""One damaged byte in a byte stream: the mutation every framer fuzz test applies."""

MUTATIONS = ("sub", "ins", "del")


def mutate(stream: bytes, pos: int, byte: int, op: str) -> bytes:
    """``stream`` with the byte at ``pos`` substituted by ``byte``, ``byte`` inserted there, or it deleted."""
    if op == "sub":
        return stream[:pos] + bytes([byte]) + stream[pos + 1:]
    if op == "ins":
        return stream[:pos] + bytes([byte]) + stream[pos:]
    if op == "del":
        return stream[:pos] + stream[pos + 1:]
    raise ValueError(f"unknown mutation {op!r}")
