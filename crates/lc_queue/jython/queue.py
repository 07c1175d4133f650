
def lcr_summary(label):
    lcr_out("begin", [label])
    lcr_call("CommunitiesQEventService.viewQueuedEventsSummary")
    CommunitiesQEventService.viewQueuedEventsSummary()
    lcr_out("end", [label])

def lcr_community_events(label):
    lcr_out("begin", [label])
    last = None
    pages = 0
    while pages < 100000:
        lcr_call("CommunitiesQEventService.viewQueuedEventsByResourceType")
        last = CommunitiesQEventService.viewQueuedEventsByResourceType("community", last, 500)
        pages = pages + 1
        if last is None:
            break
    lcr_out("end", [label])

def lcr_main():
    lcr_loads()
    check = ARGS[0]
    scope = ARGS[1]
    values = ARGS[2:]
    lcr_summary("before")
    if check == "1" and (scope == "type" or scope == "id"):
        lcr_community_events("community")
    if check == "1" or scope == "none":
        return
    if scope == "apps":
        for app in values:
            lcr_call("CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId(" + app + ")")
            n = CommunitiesQEventService.clearQueuedEventsByRemoteAppDefId(app)
            lcr_out("cleared", [app, n])
    if scope == "type":
        lcr_call("CommunitiesQEventService.clearQueuedEventsByResourceType(community)")
        n = CommunitiesQEventService.clearQueuedEventsByResourceType("community")
        lcr_out("cleared", ["*", n])
    if scope == "id":
        lcr_call("CommunitiesQEventService.clearQueuedEventsByResourceId(community, " + values[0] + ")")
        n = CommunitiesQEventService.clearQueuedEventsByResourceId("community", values[0])
        lcr_out("cleared", ["*", n])
    lcr_summary("after")
