
def lcr_main():
    lcr_loads()
    optional = ARGS[0]
    i = 1
    while i + 1 < len(ARGS):
        app = ARGS[i]
        path = ARGS[i + 1]
        i = i + 2
        script = lcr_script_of(app)
        if optional == "1":
            if not lcr_try_load(script):
                lcr_out("skipped", [app, script + " is not in this profile"])
                continue
            try:
                r = lcr_export(app, path)
            except:
                lcr_out("skipped", [app, "export failed: " + lcr_error_text(sys.exc_info()[1])])
                continue
        else:
            lcr_load(script)
            r = lcr_export(app, path)
        lcr_out("exported", [app, path, r])
