"""How the grader reads a kernel's messages: jupyter_client's session, with the dates in their headers left as text.

jupyter_client turns every string of a message's header and parent header that looks like a
date into a ``datetime`` (two per message, with dateutil). Nothing in the grader reads those
dates (nbclient only for ``record_timing``, which the runner turns off), and a graded notebook
brings several hundred messages. Everything else is as jupyter_client does it: the signature
checked, a signature seen before refused, the message adapted to the current protocol.
"""
from __future__ import annotations

from hmac import compare_digest
from typing import Any

from jupyter_client.adapter import adapt
from jupyter_client.session import Session

PARTS = 5  # signature, header, parent header, metadata, content; the buffers follow


class GraderSession(Session):
    """A ``Session`` whose ``deserialize`` leaves the headers' dates as the kernel wrote them."""

    def deserialize(self, msg_list: list, content: bool = True, copy: bool = True) -> dict[str, Any]:
        parts = list(msg_list) if copy else [bytes(part.bytes) for part in msg_list[:PARTS]] + list(msg_list[PARTS:])
        self.check_signature(parts, keep=content)
        if len(parts) < PARTS:
            raise TypeError(f"malformed message, must have at least {PARTS} elements")
        header = self.unpack(parts[1])
        message = {"header": header, "msg_id": header["msg_id"], "msg_type": header["msg_type"],
                   "parent_header": self.unpack(parts[2]), "metadata": self.unpack(parts[3]),
                   "content": self.unpack(parts[4]) if content else parts[4], "buffers": buffers(msg_list, parts)}
        return adapt(message)

    def check_signature(self, parts: list[bytes], keep: bool) -> None:
        """ValueError unless the message is signed with the session's key and its signature was not seen before;
        ``keep``: remember the signature (a message only peeked at is not)."""
        if self.auth is None:
            return
        signature = parts[0]
        if not signature:
            raise ValueError("Unsigned Message")
        if signature in self.digest_history:
            raise ValueError(f"Duplicate Signature: {signature!r}")
        if keep:
            self._add_digest(signature)
        if not compare_digest(signature, self.sign(parts[1:PARTS])):
            raise ValueError(f"Invalid Signature: {signature!r}")


def buffers(msg_list: list, parts: list) -> list[memoryview]:
    """The message's binary buffers, copied where pyzmq handed frames that a memoryview cannot read."""
    views = [memoryview(part) for part in parts[PARTS:]]
    if views and views[0].shape is None:
        return [memoryview(bytes(frame.bytes)) for frame in msg_list[PARTS:]]
    return views
