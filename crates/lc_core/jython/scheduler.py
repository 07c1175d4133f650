
def lcr_scheduler():
    try:
        s = CommunitiesScheduler
        name = "CommunitiesScheduler"
    except NameError:
        s = CommunitiesSchedulerService
        name = "CommunitiesSchedulerService"
    lcr_out("object", [name])
    return s, name

def lcr_details(s, name, task):
    lcr_call(name + ".getTaskDetails")
    d = s.getTaskDetails(task)
    lcr_out("details", [d])
    st = None
    try:
        st = d.get("status")
    except:
        st = None
    if st is None:
        text = str(d)
        i = text.find("status=")
        if i >= 0:
            st = text[i + 7:]
            for sep in [",", "}"]:
                j = st.find(sep)
                if j >= 0:
                    st = st[:j]
    return str(st).strip()
