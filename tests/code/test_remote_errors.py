"""What the engine reports as a failing remote (retrain.dvcops.remote_errors) is what remotes raise, never a bug: a
bug reaches the command line's handler, which keeps its traceback in reports/retrain-error.log."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from dvc.exceptions import UploadError

from retrain.dvcops import remote_errors

FAILING_REMOTES = [
    ConnectionRefusedError("refused"),
    TimeoutError("timed out"),
    PermissionError("denied"),
    UploadError(3),
    EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    ClientError({"Error": {"Code": "503", "Message": "Slow Down"}}, "PutObject"),
]
BUGS = [TypeError("unsupported operand"), KeyError("md5"), AttributeError("no attribute"), ValueError("bad")]


@pytest.mark.parametrize("error", FAILING_REMOTES, ids=lambda error: type(error).__name__)
def test_a_failing_remote_is_caught(error: BaseException) -> None:
    with pytest.raises(remote_errors()):
        raise error


@pytest.mark.parametrize("error", BUGS, ids=lambda error: type(error).__name__)
def test_a_bug_is_not_taken_for_a_failing_remote(error: BaseException) -> None:
    assert not isinstance(error, remote_errors())
