"""One play in check and diff mode on localhost, with the ansible-core of the Python running the tests, read
from the json stdout callback (shared by the tests of this directory, which pytest puts on sys.path)."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The ansible-core next to this Python, whatever PATH says: the one this run tests.
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
SYSTEMD = os.path.isdir("/run/systemd/system")  # as sd_booted(3) tells


def run_check_mode_play(tmp_path, play, variables):
    """``play`` (a dict; its ``vars_files`` get ``variables``) with --check --diff on localhost: [(task name
    without the role's prefix, result)] in order."""
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    (tmp_path / "play.json").write_text(json.dumps([dict(play, hosts="localhost", gather_facts=False,
                                                         vars_files=["vars.json"])]))
    # The repository's ansible.cfg puts this checkout on the collections path; the caller's would win over it.
    env = {name: value for name, value in os.environ.items() if name != "ANSIBLE_COLLECTIONS_PATH"}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"))
    result = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "--check", "--diff", "-i", "localhost,", "-c", "local",
         "-e", f"ansible_python_interpreter={sys.executable}", "play.json"],
        cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.stdout.startswith("{"), result.stdout + result.stderr
    return [(task["task"]["name"].split(" : ", 1)[-1], task["hosts"]["localhost"])
            for task in json.loads(result.stdout)["plays"][0]["tasks"]]


def result_of(tasks, name):
    (result,) = [result for task, result in tasks if task == name]
    return result
