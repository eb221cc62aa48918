# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The containers of ``make bench-versus`` (tests/benchmarks/bench_versus.py), without molecule.

Four systemd containers from the local Debian image on a docker network of their own, named
``wsn-versus-*`` and labelled, so that only they are ever removed: two echo backends and two
proxies (one for each role under test, the same image). The proxies get Debian's openssh-server
(from Debian's archive, as the roles get nginx) and a user ``bench`` with passwordless sudo whose
only key is one made for the run, so Ansible can reach them over SSH the way most users run it: as
an unprivileged user, ``become`` with sudo.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
import time

from pathlib import Path

import docker

LABEL = 'websocket-nginx.bench'
LABEL_VALUE = 'versus'
NETWORK = 'wsn-versus'
SSH_USER = 'bench'


class LabError(Exception):
    pass


class Lab(object):
    """Creates, reaches and removes the benchmark's containers. ``names``: proxies and backends."""

    def __init__(self, image, proxies, backends, workdir: Path, log=print):
        self.image = image
        self.proxies = list(proxies)
        self.backends = list(backends)
        self.workdir = workdir
        self.log = log
        self.client = docker.from_env()
        self.key = workdir / 'id_ed25519'
        self.known_hosts = workdir / 'known_hosts'

    @property
    def names(self):
        return self.proxies + self.backends

    # -- lifecycle -------------------------------------------------------------
    def remove_leftovers(self):
        """Removes the containers and network a previous run left (--keep, or killed); only ours."""
        for name in self.names:
            try:
                container = self.client.containers.get(name)
            except docker.errors.NotFound:
                continue
            if container.labels.get(LABEL) != LABEL_VALUE:
                raise LabError('a container named %s exists and was not made by this benchmark; '
                               'remove or rename it first' % name)
            self.log('  removing %s left by an earlier run' % name)
            container.remove(force=True)
        for network in self.client.networks.list(names=[NETWORK]):
            if network.attrs.get('Labels', {}).get(LABEL) != LABEL_VALUE:
                raise LabError('a docker network named %s exists and was not made by this benchmark' % NETWORK)
            network.remove()

    def create(self):
        self.remove_leftovers()
        self.client.networks.create(NETWORK, driver='bridge', labels={LABEL: LABEL_VALUE})
        for name in self.names:
            # What the molecule scenarios give systemd as PID 1 (no --privileged here).
            self.client.containers.run(
                self.image, command='/lib/systemd/systemd', name=name, hostname=name, detach=True,
                labels={LABEL: LABEL_VALUE}, network=NETWORK,
                cap_add=['SYS_ADMIN'], security_opt=['seccomp=unconfined'], cgroupns='host',
                volumes={'/sys/fs/cgroup': {'bind': '/sys/fs/cgroup', 'mode': 'rw'}},
                tmpfs={'/run': '', '/run/lock': ''}, stop_signal='SIGRTMIN+3')
        deadline = time.monotonic() + 120
        for name in self.names:
            # "Failed to connect to bus" until systemd has its bus: ask again.
            while True:
                state = self.exec(name, ['systemctl', 'is-system-running', '--wait'], check=False, timeout=120).strip()
                if state in ('running', 'degraded'):
                    break
                if time.monotonic() > deadline:
                    raise LabError('systemd in %s did not boot: %s' % (name, state))
                time.sleep(0.5)

    def destroy(self):
        """Removes only what carries this benchmark's label."""
        for container in self.client.containers.list(all=True, filters={'label': '%s=%s' % (LABEL, LABEL_VALUE)}):
            if container.name in self.names:
                container.remove(force=True)
        for network in self.client.networks.list(names=[NETWORK]):
            if network.attrs.get('Labels', {}).get(LABEL) == LABEL_VALUE:
                network.remove()
        self.client.close()

    # -- inside the containers -------------------------------------------------
    def exec(self, name, command, check=True, timeout=600, environment=None):
        """Runs a command in a container (docker exec, as root) and returns its output."""
        container = self.client.containers.get(name)
        # The docker SDK's exec has no timeout of its own; the command bounds itself.
        result = container.exec_run(['timeout', str(int(timeout))] + list(command), environment=environment)
        output = result.output.decode(errors='replace')
        if check and result.exit_code:
            raise LabError('%s in %s exited %s:\n%s' % (command, name, result.exit_code, output[-2000:]))
        return output

    def address(self, name):
        container = self.client.containers.get(name)
        address = container.attrs['NetworkSettings']['Networks'][NETWORK]['IPAddress']
        if not address:
            raise LabError('%s has no address on %s' % (name, NETWORK))
        return address

    def make_key(self):
        """An ed25519 key for this run only (no passphrase: the key opens only these containers)."""
        for path in (self.key, self.key.with_suffix('.pub')):
            path.unlink(missing_ok=True)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'wsn-versus', '-f', str(self.key)],
                       check=True, capture_output=True, timeout=60)

    def install_ssh(self, name):
        """Debian's openssh-server, the user ``bench`` (sudo without password) with the run's key."""
        self.exec(name, ['sh', '-c', 'apt-get update -q && DEBIAN_FRONTEND=noninteractive '
                         'apt-get install -q -y --no-install-recommends openssh-server'], timeout=600)
        self.exec(name, ['sh', '-c', '''set -e
id "$U" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$U"
install -d -m 0700 -o "$U" -g "$U" "/home/$U/.ssh"
printf '%s\\n' "$KEY" > "/home/$U/.ssh/authorized_keys"
chown "$U:$U" "/home/$U/.ssh/authorized_keys"; chmod 0600 "/home/$U/.ssh/authorized_keys"
printf '%s ALL=(ALL) NOPASSWD:ALL\\n' "$U" > "/etc/sudoers.d/$U"; chmod 0440 "/etc/sudoers.d/$U"
systemctl enable --now ssh >/dev/null 2>&1
systemctl is-active ssh >/dev/null'''], environment={'U': SSH_USER, 'KEY': self.key.with_suffix('.pub').read_text().strip()})

    def setup_ssh(self):
        """SSH on every proxy (in parallel) and a known_hosts file with their host keys."""
        self.make_key()
        with concurrent.futures.ThreadPoolExecutor(len(self.proxies)) as pool:
            for future in [pool.submit(self.install_ssh, name) for name in self.proxies]:
                future.result()
        lines = []
        for name in self.proxies:
            host_key = self.exec(name, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub']).split()
            lines.append('%s %s %s' % (self.address(name), host_key[0], host_key[1]))
        self.known_hosts.write_text('\n'.join(lines) + '\n')
        deadline = time.monotonic() + 60
        for name in self.proxies:
            while True:
                probe = subprocess.run(['ssh'] + self.ssh_options() + ['%s@%s' % (SSH_USER, self.address(name)),
                                                                       'sudo', '-n', 'true'],
                                       capture_output=True, text=True, timeout=60, check=False)
                if probe.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise LabError('ssh to %s does not work: %s' % (name, probe.stderr.strip()))
                time.sleep(1)

    def ssh_extra_args(self):
        """What the inventory adds to Ansible's default ssh arguments: the run's known_hosts, its key only."""
        return ['-o', 'UserKnownHostsFile=%s' % self.known_hosts, '-o', 'StrictHostKeyChecking=yes',
                '-o', 'IdentitiesOnly=yes']

    def ssh_options(self):
        return self.ssh_extra_args() + ['-o', 'BatchMode=yes', '-i', str(self.key)]

    def write_file(self, name, path, content, mode='0644'):
        self.exec(name, ['sh', '-c', 'mkdir -p "$(dirname "$P")" && printf %s "$C" > "$P" && chmod "$M" "$P"'],
                  environment={'P': path, 'C': content, 'M': mode})
