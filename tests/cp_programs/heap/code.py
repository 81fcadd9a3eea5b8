"""The heap bench's program: imports the badge's modules one by one (dependencies first,
the order in /heap_order.txt) and prints what each one keeps of the heap after a
collection, as "heap mod NAME BYTES"; then "heap imports BYTES free BYTES"."""

import gc

gc.collect()
print("heap start", gc.mem_free())
with open("/heap_order.txt") as f:
    names = f.read().split()
gc.collect()
total = gc.mem_free()
for name in names:
    gc.collect()
    before = gc.mem_free()
    try:
        __import__(name)
    except Exception as error:  # a module that cannot load here: say so, go on
        print("heap fail", name, repr(error))
        continue
    gc.collect()
    print("heap mod", name, before - gc.mem_free())
gc.collect()
print("heap imports", total - gc.mem_free(), "free", gc.mem_free())
