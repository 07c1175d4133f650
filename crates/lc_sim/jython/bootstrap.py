# The wsadmin stand-in's script runner (runs in Jython 2.7): sets sys.argv to the script's
# arguments as wsadmin does, runs the -f script or the -c statement in a fresh namespace, and maps
# an exception to WASX7017E / WASX7015E and exit status 105.
import os
import sys
import traceback

sys.path.insert(0, os.environ["LC_SIM_LIB"])
import lcsim_proxy

_mode = os.environ["LC_SIM_MODE"]
_target = os.environ["LC_SIM_TARGET"]
sys.argv = sys.argv[1:]

_g = {"__name__": "__main__", "AdminControl": lcsim_proxy.AdminControl}


def _ours(filename):
    base = os.path.basename(filename or "")
    return base in ("bootstrap.py", "lcsim_proxy.py", "bootstrap$py.class", "lcsim_proxy$py.class")


def _fail(info):
    if _mode == "f":
        sys.stdout.write('WASX7017E: Exception received while running file "%s"; exception information: %s\n'
                         % (_target, info))
    else:
        sys.stdout.write('WASX7015E: Exception running command: "%s"; exception information:\n%s\n'
                         % (_target, info))
    sys.stdout.flush()
    sys.exit(105)


_info = None
try:
    if _mode == "f":
        execfile(_target, _g)
    else:
        exec compile(_target + "\n", "<input>", "exec") in _g
except SystemExit:
    sys.stdout.flush()
    raise
except lcsim_proxy.ScriptingException, e:
    _info = e.text
except:
    t, v, tb = sys.exc_info()
    frames = [f for f in traceback.extract_tb(tb) if not _ours(f[0])]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text = text + "".join(traceback.format_exception_only(t, v))
    _info = "com.ibm.bsf.BSFException: exception from Jython:\n" + text.rstrip("\n")
if _info is not None:
    _fail(_info)
sys.stdout.flush()
