"""Send a supervisor's command to the controller process (see examroom.live.link)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class ControllerUnavailable(RuntimeError):
    pass


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
                return False, {"error": f"controller answered {error.code}"}
        except OSError as exc:
            raise ControllerUnavailable(f"the controller does not answer at {self.url}: {exc}") from exc
