"""Send a supervisor's command to the controller process (see examroom.live.link)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from examroom.messages import N_, SupervisorError


class ControllerUnavailable(SupervisorError, RuntimeError):
    """The controller's process does not answer (not started, stopped, or the link is down)."""


class ControllerClient:
    def __init__(self, feed_url: str, token: str, timeout: float = 10.0) -> None:
        self.url = feed_url.rsplit("/", 1)[0] + "/commands"
        self.token = token
        self.timeout = timeout

    def send(self, **command) -> tuple[bool, dict]:
        """(accepted, answer); a refusal's answer has the controller's ``error``."""
        body = json.dumps(command, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Examroom-Token": self.token})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return True, json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                return False, json.loads(error.read())
            except ValueError:
                failed = SupervisorError(N_("考试控制器答复 %(status)s"), status=error.code)
                return False, {"error": str(failed), "message": failed.as_dict()}
        except OSError as exc:
            raise ControllerUnavailable(N_("考试控制器无应答（%(url)s）：%(reason)s"), url=self.url,
                                        reason=str(exc)) from exc
