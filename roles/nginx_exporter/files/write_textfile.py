# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a command that prints Prometheus metrics and put its output into a textfile collector's file, atomically.

    write_textfile.py --output DIR/NAME.prom [--timeout SECONDS] -- COMMAND [ARGUMENT ...]

Installed by the websocket.nginx.nginx_exporter role and run by its systemd timer, with the collection's
nginx_status.py as COMMAND. The node exporter reads every ``*.prom`` file of its directory at each
scrape, so it must never see half a file: the output goes to a temporary file in the same directory
(named ``.NAME.prom.<random>``, which its ``*.prom`` pattern does not match), is flushed to disk,
made readable by everyone, and renamed over the old file.

When the command fails (or prints nothing, or runs too long) the old file is removed rather than
left with numbers that are no longer true: the series then end in Prometheus, which an alert can
see, where a stale file would go on repeating the last counts. The command's error goes to
standard error (the journal) and the exit status is 1.

Standard library only: it runs with the host's python3.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

DEFAULT_TIMEOUT = 30.0


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_atomically(path, data):
    """``data`` becomes the content of ``path`` at once: a temporary file beside it, renamed over it."""
    directory, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix='.%s.' % name, dir=directory or '.')
    try:
        with os.fdopen(handle, 'wb') as output:
            output.write(data)
            output.flush()
            os.fsync(output.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        remove(temporary)
        raise


def run(output, command, timeout=DEFAULT_TIMEOUT):
    """Run ``command``; its standard output into ``output`` when it succeeds, else remove ``output``.
    Returns the exit status for this program and a message (None on success)."""
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        problem = '%s ran longer than %g s' % (command[0], timeout)
    except OSError as exc:
        problem = 'cannot run %s: %s' % (command[0], exc.strerror or exc)
    else:
        if result.returncode == 0 and result.stdout.strip():
            try:
                write_atomically(output, result.stdout)
            except OSError as exc:
                return 1, 'cannot write %s: %s' % (output, exc.strerror or exc)
            return 0, None
        error = result.stderr.decode('utf-8', 'replace').strip()
        if result.returncode == 0:
            problem = '%s printed no metrics' % command[0]
        else:
            problem = '%s failed (exit status %d)%s' % (command[0], result.returncode, ': ' + error if error else '')
    remove(output)
    return 1, '%s; removed %s so that no stale counts are scraped' % (problem, output)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='write_textfile.py', description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--output', required=True, help='the .prom file to write (in the textfile directory)')
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT, help='seconds (default %(default)s)')
    parser.add_argument('command', nargs=argparse.REMAINDER, help='-- COMMAND [ARGUMENT ...]')
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('a command to run is needed after --')
    if not args.output.endswith('.prom'):
        parser.error('--output must end with .prom (the node exporter reads only those), got %r' % args.output)
    status, message = run(args.output, command, args.timeout)
    if message:
        sys.stderr.write('%s: %s\n' % (parser.prog, message))
    return status


if __name__ == '__main__':
    sys.exit(main())
