# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Property tests of the change engine (module_utils/config_transaction.py) with a real ``nginx -t``.

Whatever files exist before (any bytes, any mode, or none) and whatever the change wants (write any
bytes with any mode, or remove), a change nginx refuses leaves every file exactly as it was, and a
change nginx accepts leaves every file exactly as wanted; neither leaves a journal, a saved copy or
a temporary file behind. No nginx runs: ``reload=False`` stops after ``nginx -t``, and the pending
transaction, never reloaded, is put back exactly by the next run of another play.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile

from pathlib import Path

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.module_utils.config_transaction import (
    Transaction,
    TransactionError,
    Wanted,
)

NGINX = '/usr/sbin/nginx'

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith('linux'), reason='Linux only'),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX),
    pytest.mark.skipif(os.geteuid() != 0, reason='writes files owned by root, as the module does'),
]

NAMES = ('a.txt', 'b.txt', 'c.txt', 'd.txt')
MODES = (0o600, 0o640, 0o644, 0o755)
STATE = st.one_of(st.none(), st.tuples(st.binary(max_size=300), st.sampled_from(MODES)))


def tree(directory):
    """``{name: (bytes, mode)}`` of the regular files in ``directory``, and the names of anything else."""
    files, others = {}, []
    for path in sorted(Path(directory).iterdir()):
        if path.is_file() and not path.is_symlink():
            files[path.name] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        else:
            others.append(path.name)
    return files, others


def lay_out(directory, before):
    for name, state in before.items():
        if state is not None:
            path = Path(directory) / name
            path.write_bytes(state[0])
            path.chmod(state[1])


def nginx_conf(directory):
    conf = Path(directory) / 'nginx.conf'
    conf.write_text('pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    include %s/site/*.conf;\n}\n'
                    % (directory, directory, directory))
    return str(conf)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.fixed_dictionaries({name: STATE for name in NAMES}),
       after=st.dictionaries(st.sampled_from(NAMES), STATE, min_size=1),
       refused=st.booleans())
def test_a_refused_change_leaves_every_file_as_it_was_and_an_accepted_one_as_wanted(before, after, refused):
    root = tempfile.mkdtemp(prefix='transaction-property-')
    try:
        site = Path(root) / 'site'
        site.mkdir()
        lay_out(site, before)
        if refused:
            (site / 'broken.conf').write_text('# the candidate nginx refuses\n')
            after = dict(after)
        conf = nginx_conf(root)
        files = [Wanted(str(site / name), state[0], state[1]) for name, state in sorted(after.items()) if state is not None]
        if refused:
            files.append(Wanted(str(site / 'broken.conf'), b'no_such_directive on;\n'))
        remove = [str(site / name) for name, state in sorted(after.items()) if state is None]
        state_dir = str(Path(root) / 'state')
        expected_before = tree(site)
        transaction = Transaction(files=files, remove=remove, nginx_binary=NGINX, nginx_config=conf, reload=False,
                                  state_dir=state_dir, transaction_id='property')
        if refused:
            with pytest.raises(TransactionError) as failure:
                transaction.run()
            assert failure.value.msg.startswith('nginx rejected the new configuration'), failure.value.msg
            assert tree(site) == expected_before
        else:
            result = transaction.run()
            wanted = dict((name, state) for name, state in before.items() if state is not None)
            for name, state in after.items():
                if state is None:
                    wanted.pop(name, None)
                else:
                    wanted[name] = state
            assert tree(site) == (wanted, [])
            assert result['changed'] == (wanted != expected_before[0])
            # Never reloaded (the play ended before): the next run, of another play, puts every file back.
            if result['pending_reload']:
                recovery = Transaction(nginx_binary=NGINX, nginx_config=conf, state_dir=state_dir,
                                       transaction_id='next play').run()
                assert recovery['recovered']['state'] == 'pending' and recovery['reloaded'] is False
                assert tree(site) == expected_before
        leftovers = sorted(name for name in os.listdir(state_dir) if name != 'lock') if os.path.isdir(state_dir) else []
        assert leftovers == [], leftovers
    finally:
        shutil.rmtree(root, ignore_errors=True)
