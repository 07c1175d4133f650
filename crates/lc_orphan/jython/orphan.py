
LCR_FORUMS = []

def lcr_forums():
    if len(LCR_FORUMS) == 0:
        lcr_call("ForumsService.fetchForums")
        LCR_FORUMS.append(ForumsService.fetchForums())
    return LCR_FORUMS[0]

def lcr_delete(app, obj, old):
    if app == "Activities":
        lcr_call("ActivityService.deleteActivities")
        left = ActivityService.deleteActivities(ActivityService.fetchActivitiesByCommunityExId(old))
        if left is not None and len(left) > 0:
            raise ValueError("ActivityService.deleteActivities left " + str(len(left)) + " activities undeleted")
        return "moved to Trash"
    if app == "Blog" or app == "IdeationBlog":
        lcr_call("BlogsAdminService.deleteWeblog")
        BlogsAdminService.deleteWeblog(obj)
        return "deleted"
    if app == "Files":
        lcr_call("FilesLibraryService.delete")
        FilesLibraryService.delete(obj)
        return "deleted with every version"
    if app == "Forum":
        pattern = ""
        for c in obj:
            if c.isalnum() or c == "-" or c == "_":
                pattern = pattern + c
            else:
                pattern = pattern + "\\" + c
        forums = ForumsService.filterInput(lcr_forums(), pattern, "forumID")
        if len(forums) == 0:
            raise ValueError("forum " + obj + " is not in ForumsService.fetchForums()")
        lcr_call("ForumsService.deleteForums")
        ForumsService.deleteForums(forums)
        return "moved to Trash"
    if app == "Wiki":
        lcr_call("WikisLibraryService.delete")
        WikisLibraryService.delete(obj)
        return "deleted"
    if app == "StatusUpdates":
        lcr_call("NewsMicrobloggingService.deleteMicroblogs")
        NewsMicrobloggingService.deleteMicroblogs(old)
        return "deleted"
    raise ValueError("no delete command for " + app)

def lcr_assign(app, obj, old, target, replace, column):
    if replace == "1":
        lcr_call("CommunitiesService.removeAllWidgetsByWidgetDefId")
        CommunitiesService.removeAllWidgetsByWidgetDefId(target, app)
    lcr_call("CommunitiesRemoteAppService.assignRemoteApp")
    r = CommunitiesRemoteAppService.assignRemoteApp(app, obj, old, target, column)
    return "assigned to " + target

def lcr_main():
    lcr_loads()
    for row in DATA:
        i = row[0]
        action = row[1]
        app = row[2]
        obj = row[3]
        old = row[4]
        target = row[5]
        replace = row[6]
        column = row[7]
        script = row[8]
        if not lcr_try_load(script):
            lcr_out("outcome", [i, "failed", script + " is not in this profile: the application is not installed"])
            continue
        try:
            if action == "assign":
                m = lcr_assign(app, obj, old, target, replace, column)
            else:
                m = lcr_delete(app, obj, old)
            lcr_out("outcome", [i, "done", m])
        except:
            lcr_out("outcome", [i, "failed", lcr_error_text(sys.exc_info()[1])])
