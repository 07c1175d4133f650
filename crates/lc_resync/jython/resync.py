
def lcr_queue_count(r, key):
    if r is None:
        return "0"
    v = None
    try:
        v = r.get(key)
    except:
        v = None
    if v is None:
        text = str(r).strip()
        if text == "{}" or text == "":
            return "0"
        i = text.find(key + "=")
        if i < 0:
            return "?"
        v = text[i + len(key) + 1:]
        for sep in [",", "}"]:
            j = v.find(sep)
            if j >= 0:
                v = v[:j]
    return str(v).strip()

def lcr_journal(path, status, key):
    if path == "":
        return
    f = open(path, "a")
    f.write(status + "\t" + key + "\n")
    f.close()

def lcr_resync(row):
    if row[3] == "":
        lcr_call("CommunitiesRemoteAppService.resyncRemoteAppsForCommunity")
        CommunitiesRemoteAppService.resyncRemoteAppsForCommunity(row[2])
    else:
        lcr_call("CommunitiesRemoteAppService.resyncRemoteAppsForCommunityAndWidget")
        CommunitiesRemoteAppService.resyncRemoteAppsForCommunityAndWidget(row[2], row[3])

def lcr_resync_all(row):
    if row[3] == "":
        lcr_call("CommunitiesRemoteAppService.resyncRemoteAppsForAllCommunities")
        CommunitiesRemoteAppService.resyncRemoteAppsForAllCommunities(row[2])
    else:
        lcr_call("CommunitiesRemoteAppService.restartResyncRemoteAppsForAllCommunities")
        CommunitiesRemoteAppService.restartResyncRemoteAppsForAllCommunities(row[2], row[3])

def lcr_share(row):
    lcr_call(row[3] + ".syncAllCommunityShares")
    globals()[row[3]].syncAllCommunityShares()

def lcr_main():
    lcr_loads()
    task = ARGS[0]
    key = ARGS[1]
    journal = ARGS[2]
    s, name = lcr_scheduler()
    status = lcr_details(s, name, task)
    lcr_out("begin", ["queue"])
    lcr_call("CommunitiesQEventService.viewQueuedEventsSummary")
    r = CommunitiesQEventService.viewQueuedEventsSummary()
    lcr_out("end", ["queue"])
    n = lcr_queue_count(r, key)
    empty = 0
    try:
        empty = int(n) == 0
    except:
        empty = 0
    if status != "SCHEDULED" or not empty:
        lcr_out("refused", [status, n, r])
        return
    lcr_out("preconditions", [status])
    for row in DATA:
        kind = row[0]
        i = row[1]
        if kind == "s" and not lcr_try_load(row[2]):
            lcr_out("outcome", [i, "skipped", row[2] + " is not in this profile: the application is not installed"])
            continue
        if kind == "s" and not globals().has_key(row[3]):
            lcr_out("outcome", [i, "skipped", row[2] + " defines no " + row[3] + " in this version (HCL Connections 8 has it)"])
            continue
        if kind != "c":
            lcr_out("begin", [kind + ":" + i])
        ok = 0
        err = ""
        try:
            if kind == "c":
                lcr_resync(row)
            elif kind == "a":
                lcr_resync_all(row)
            else:
                lcr_share(row)
            ok = 1
        except:
            err = lcr_error_text(sys.exc_info()[1])
        if kind != "c":
            lcr_out("end", [kind + ":" + i])
        if ok:
            lcr_journal(journal, "done", row[4])
            lcr_out("outcome", [i, "done", ""])
        else:
            lcr_journal(journal, "failed", row[4])
            lcr_out("outcome", [i, "failed", err])
