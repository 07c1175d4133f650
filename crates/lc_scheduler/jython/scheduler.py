
def lcr_main():
    lcr_loads()
    s, name = lcr_scheduler()
    task = ARGS[0]
    want = ARGS[1]
    check = ARGS[2]
    status = lcr_details(s, name, task)
    if want == "status" or check == "1":
        return
    if want == "paused" and status != "SUSPENDED":
        lcr_call(name + ".pauseSchedulingTask")
        r = s.pauseSchedulingTask(task)
        lcr_out("returned", [name + ".pauseSchedulingTask", r])
        lcr_details(s, name, task)
    if want == "resumed" and status == "SUSPENDED":
        lcr_call(name + ".resumeSchedulingTask")
        r = s.resumeSchedulingTask(task)
        lcr_out("returned", [name + ".resumeSchedulingTask", r])
        lcr_details(s, name, task)
