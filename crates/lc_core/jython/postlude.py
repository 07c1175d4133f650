
try:
    lcr_main()
    lcr_out("done", [])
except LcrStop:
    pass
