"""The grader reads a kernel's messages as jupyter_client does, dates aside, and refuses the same ones (no kernel)."""
from __future__ import annotations

import pytest
import zmq
from jupyter_client.jsonutil import extract_dates
from jupyter_client.session import Session

from coursetool.grade.kernel.messages import GraderSession

KEY = b"a key both ends know"


def wire(sender: Session, msg_type: str = "execute_reply", buffers: list[bytes] | None = None) -> list[bytes]:
    """A message as the kernel sends it, from its signature on (identities and delimiter taken off)."""
    parent = sender.msg_header("execute_request")
    message = sender.msg(msg_type, content={"status": "ok", "execution_count": 3, "user_expressions": {}},
                         parent={"header": parent}, metadata={"started": "2026-12-04T04:00:00.000001Z"})
    serialized = sender.serialize(message)
    if buffers:
        serialized += buffers
    _, parts = sender.feed_identities(serialized)
    return parts


def test_a_message_reads_as_jupyter_client_reads_it_with_dates_as_text():
    parts = wire(Session(key=KEY))
    ours, theirs = GraderSession(key=KEY).deserialize(list(parts)), Session(key=KEY).deserialize(list(parts))
    assert isinstance(ours["header"]["date"], str)
    dated = {**ours, "header": extract_dates(ours["header"]), "parent_header": extract_dates(ours["parent_header"])}
    assert dated == theirs


def test_buffers_and_uncopied_frames_read_as_jupyter_client_reads_them():
    parts = wire(Session(key=KEY), "display_data", buffers=[b"\x00\x01binary"])
    frames = [zmq.Frame(part) for part in parts]
    ours = GraderSession(key=KEY).deserialize(frames, copy=False)
    theirs = Session(key=KEY).deserialize([zmq.Frame(part) for part in parts], copy=False)
    assert [bytes(view) for view in ours["buffers"]] == [bytes(view) for view in theirs["buffers"]] == [b"\x00\x01binary"]
    assert ours["content"] == theirs["content"] and ours["msg_type"] == "display_data"


def test_a_message_signed_with_another_key_is_refused():
    with pytest.raises(ValueError, match="Invalid Signature"):
        GraderSession(key=KEY).deserialize(wire(Session(key=b"the student's own key")))


def test_an_unsigned_message_is_refused():
    parts = wire(Session(key=KEY))
    with pytest.raises(ValueError, match="Unsigned"):
        GraderSession(key=KEY).deserialize([b"", *parts[1:]])


def test_a_message_sent_again_is_refused():
    reader, parts = GraderSession(key=KEY), wire(Session(key=KEY))
    reader.deserialize(list(parts))
    with pytest.raises(ValueError, match="Duplicate Signature"):
        reader.deserialize(list(parts))


def test_a_message_only_peeked_at_may_be_read_after():
    reader, parts = GraderSession(key=KEY), wire(Session(key=KEY))
    assert isinstance(reader.deserialize(list(parts), content=False)["content"], bytes)
    assert reader.deserialize(list(parts))["content"]["execution_count"] == 3


def test_a_message_with_parts_missing_is_refused():
    session = GraderSession(key=KEY)
    parts = wire(Session(key=KEY))[:3]
    with pytest.raises((TypeError, ValueError)):
        session.deserialize(parts)
