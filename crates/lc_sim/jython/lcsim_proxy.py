# The client side of the lc-sim simulated Connections cell's admin objects (runs in Jython 2.7).
# Each documented method checks its argument count, then forwards the call to `lc-sim rpc`, which
# does the work on the cell's state under a lock and sends back the lines the call prints and its
# return value. Maps come back as JavaMap (prints like java.util.Map: {key=value, ...}), lists as
# JavaList (prints like java.util.List: [a, b]).
import os
import sys

from java.lang import ProcessBuilder
from java.lang import String as _JString

RETURN_MARK = "@@lcsim-return@@ "
RAISE_MARK = "@@lcsim-raise@@ "
ITEM_MARK = "@@lcsim-item@@ "


class ScriptingException(Exception):
    """An exception thrown on the server side, kept as the Java text wsadmin prints."""

    def __init__(self, text):
        Exception.__init__(self, text)
        self.text = text

    def __str__(self):
        return self.text

    def getMessage(self):
        return self.text

    def toString(self):
        return self.text


# How maps print (the cell's dialect): java {k=v, k=v}, tight {k=v,k=v}, python {u'k': u'v'}.
_MAP_STYLE = os.environ.get("LC_SIM_MAP_STYLE", "java")


def _pyrepr(v):
    """How a Jython 2.7 dictionary shows a value."""
    if v is None:
        return "None"
    if isinstance(v, (int, long)):
        return str(v)
    if isinstance(v, JavaMap) or isinstance(v, JavaList):
        return str(v)
    return "u'" + _jstr(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _jstr(v):
    if v is None:
        return "null"
    if isinstance(v, unicode):
        return v.encode("utf-8")
    return str(v)


class JavaMap:
    """A java.util.Map as wsadmin shows one."""

    def __init__(self, pairs):
        self._keys = []
        self._d = {}
        for k, v in pairs:
            self.put(k, v)

    def put(self, k, v):
        if not self._d.has_key(k):
            self._keys.append(k)
        self._d[k] = v

    __setitem__ = put

    def get(self, k, default=None):
        return self._d.get(k, default)

    def __getitem__(self, k):
        return self._d[k]

    def keys(self):
        return list(self._keys)

    keySet = keys

    def values(self):
        return [self._d[k] for k in self._keys]

    def items(self):
        return [(k, self._d[k]) for k in self._keys]

    def has_key(self, k):
        return self._d.has_key(k)

    containsKey = has_key
    __contains__ = has_key

    def __len__(self):
        return len(self._keys)

    def size(self):
        return len(self._keys)

    def isEmpty(self):
        return len(self._keys) == 0

    def __iter__(self):
        return iter(list(self._keys))

    def __eq__(self, other):
        return isinstance(other, JavaMap) and self.items() == other.items()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __str__(self):
        if _MAP_STYLE == "python":
            return "{" + ", ".join(["%s: %s" % (_pyrepr(k), _pyrepr(self._d[k])) for k in self._keys]) + "}"
        sep = ", "
        if _MAP_STYLE == "tight":
            sep = ","
        return "{" + sep.join(["%s=%s" % (k, _jstr(self._d[k])) for k in self._keys]) + "}"

    __repr__ = __str__
    toString = __str__


class JavaList(list):
    """A java.util.List (or Vector) as wsadmin shows one."""

    def __str__(self):
        if _MAP_STYLE == "python":
            return "[" + ", ".join([_pyrepr(v) for v in self]) + "]"
        return "[" + ", ".join([_jstr(v) for v in self]) + "]"

    __repr__ = __str__
    toString = __str__

    def size(self):
        return len(self)

    def isEmpty(self):
        return len(self) == 0

    def get(self, i):
        return self[i]


def _json_str(s):
    if not isinstance(s, unicode):
        s = str(s).decode("utf-8", "replace")
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o > 0x7E:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _json(v):
    """Arguments to JSON (what `lc-sim rpc` reads); maps as {"__map__": [[key, value], ...]}."""
    if v is None:
        return "null"
    if isinstance(v, JavaMap) or isinstance(v, dict):
        pairs = ["[%s, %s]" % (_json_str(_jstr(k)), _json(x)) for k, x in v.items()]
        return '{"__map__": [' + ", ".join(pairs) + "]}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join([_json(x) for x in v]) + "]"
    if v is True or v is False:
        return str(int(v))
    if isinstance(v, (int, long)):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    return _json_str(v)


def _map(pairs):
    return JavaMap(pairs)


_VALUES = {"_M": _map, "_L": JavaList}


def call(obj, method, args):
    """Runs `lc-sim rpc CELL OBJ METHOD` with the arguments on its stdin; prints what the call
    printed; returns its value (sent back as a Python literal) or raises its exception."""
    pb = ProcessBuilder([os.environ["LC_SIM_EXE"], "rpc", os.environ["LC_SIM_CELL"], obj, method])
    pb.redirectError(ProcessBuilder.Redirect.INHERIT)
    p = pb.start()
    stdin = p.getOutputStream()
    stdin.write(_JString(_json(list(args))).getBytes("UTF-8"))
    stdin.close()
    out = p.getInputStream().readAllBytes().tostring()
    rc = p.waitFor()
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    last = ""
    if lines:
        last = lines[-1]
    if last.startswith(RETURN_MARK) or last.startswith(RAISE_MARK):
        lines = lines[:-1]
    items = []
    for line in lines:
        if line.startswith(ITEM_MARK):
            items.append(eval(line[len(ITEM_MARK):], _VALUES))
        else:
            sys.stdout.write(line + "\n")
    sys.stdout.flush()
    if last.startswith(RETURN_MARK):
        values = dict(_VALUES)
        values["_ITEMS"] = items
        return eval(last[len(RETURN_MARK):], values)
    if last.startswith(RAISE_MARK):
        raise ScriptingException(eval(last[len(RAISE_MARK):], {}))
    raise ScriptingException(
        "com.ibm.ws.scripting.ScriptingException: com.ibm.websphere.management.exception."
        "ConnectorException: the request to %s.%s ended without an answer (status %s)"
        % (obj, method, rc))


class _Method:
    def __init__(self, obj, name, lo, hi):
        self.obj = obj
        self.name = name
        self.lo = lo
        self.hi = hi

    def __call__(self, *args):
        n = len(args)
        if n < self.lo or n > self.hi:
            if self.lo == self.hi:
                want = "%d" % self.lo
            else:
                want = "%d-%d" % (self.lo, self.hi)
            raise TypeError("%s(): expected %s args; got %d" % (self.name, want, n))
        return call(self.obj, self.name, list(args))

    def __repr__(self):
        return "<method %s.%s>" % (self.obj, self.name)


class AdminObject:
    def __init__(self, name, methods):
        self._name = name
        for m, lo, hi in methods:
            self.__dict__[m] = _Method(name, m, lo, hi)

    def __repr__(self):
        return "<%s>" % self._name


def _servers(script):
    # LC_SIM_SERVERS: "script=node/server,node/server;script=..."
    for part in os.environ.get("LC_SIM_SERVERS", "").split(";"):
        if "=" not in part:
            continue
        name, rest = part.split("=", 1)
        if name == script:
            return [s.split("/", 1) for s in rest.split(",") if s]
    return [["node01", "server1"]]


def _ask(n):
    while 1:
        sys.stdout.write("Which service do you want to connect to?\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if line == "":
            raise EOFError("no answer to \"Which service do you want to connect to?\" on standard input")
        try:
            i = int(line.strip())
        except ValueError:
            i = 0
        if i >= 1 and i <= n:
            return i
        sys.stdout.write("Invalid selection, specify an index number between 1 and %d.\n" % n)


def load(g, script, feature, mbean, objects):
    """What every admin script does: pick a server, define its objects in the caller's globals."""
    cell = os.environ.get("LC_SIM_CELLNAME", "cell")
    for line in os.environ.get("LC_SIM_LOAD_LINES", "").split("\n"):
        if line:
            sys.stdout.write(line + "\n")
    servers = _servers(script)
    chosen = 1
    batch = g.get("batchMode", 0)
    if len(servers) > 1 and batch != 1:
        i = 1
        for node, server in servers:
            sys.stdout.write("%d: WebSphere:name=%s,type=LotusConnections,cell=%s,node=%s,process=%s\n"
                             % (i, mbean, cell, node, server))
            i = i + 1
        chosen = _ask(len(servers))
    node = servers[chosen - 1][0]
    sys.stdout.write("Connecting to WebSphere:name=%s,type=LotusConnections,cell=%s,node=%s,*\n"
                     % (mbean, cell, node))
    for name, methods in objects:
        g[name] = AdminObject(name, methods)
    sys.stdout.write("%s Administration initialized.\n" % feature)
    sys.stdout.flush()


class _AdminControl:
    """The few AdminControl calls the Connections documentation itself uses."""

    def getCell(self):
        return os.environ.get("LC_SIM_CELLNAME", "cell")

    def getNode(self):
        return os.environ.get("LC_SIM_DMGR_NODE", "CellManager01")

    def getHost(self):
        return os.environ.get("LC_SIM_DMGR_HOST", "localhost")

    def getPort(self):
        return os.environ.get("LC_SIM_DMGR_PORT", "8879")

    def getType(self):
        return "SOAP"


AdminControl = _AdminControl()
