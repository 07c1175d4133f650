
def lcr_listing(out):
    from java.io import File
    seen = {}
    files = File(out).listFiles()
    if files is None:
        return seen
    for f in files:
        if f.isFile():
            seen[str(f.getName())] = (f.lastModified(), f.length())
    return seen

def lcr_uuids(path, seen):
    import os
    import re
    if not os.path.exists(path):
        return
    pat = re.compile("[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
    f = open(path, "r")
    while 1:
        line = f.readline()
        if not line:
            break
        for u in pat.findall(line):
            seen[u] = 1
    f.close()

def lcr_first(v):
    try:
        if len(v) > 0:
            return v[0]
    except:
        pass
    return v

def lcr_main():
    lcr_loads()
    out = ARGS[0]
    details = ARGS[1]
    suffix = ARGS[2]
    exports = []
    i = 0
    while i < len(DATA):
        exports.append(DATA[i][0])
        i = i + 1
    diffs = []
    for x in exports:
        before = lcr_listing(out)
        lcr_call("CommunitiesRemoteAppService.generateSyncReports(" + x + ")")
        CommunitiesRemoteAppService.generateSyncReports(x, out)
        after = lcr_listing(out)
        for name in after.keys():
            if not before.has_key(name) or before[name] != after[name]:
                lcr_out("wrote", [x, name])
                if len(name) > len(suffix) and name[-len(suffix):] == suffix:
                    diffs.append(out + "/" + name)
        lcr_out("generated", [x])
    if details != "1":
        return
    seen = {}
    for d in diffs:
        lcr_uuids(d, seen)
    for u in seen.keys():
        try:
            c = lcr_first(CommunitiesService.fetchCommById(u))
            name = c.get("name")
            creator = lcr_first(c.get("createdBy"))
            lcr_out("community", [u, name, creator])
        except:
            lcr_out("community_missing", [u, lcr_error_text(sys.exc_info()[1])])
