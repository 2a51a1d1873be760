import sys, re, statistics
rows = {}
order = []
for line in open(sys.argv[1]):
    m = re.match(r'Benchmark(\S+)/impl=(\w+)-\d+\s+\d+\s+([\d.]+) ns/op', line)
    if not m: continue
    name, impl, ns = m.group(1), m.group(2), float(m.group(3))
    if name not in rows: rows[name] = {'mutexmap': [], 'sioredis': []}; order.append(name)
    rows[name][impl].append(ns)
print("| benchmark | paired speed-up: median | min | max | pairs |")
print("|---|---:|---:|---:|---:|")
for n in order:
    a, b = rows[n]['mutexmap'], rows[n]['sioredis']
    r = [x/y for x, y in zip(a, b)]
    print(f"| {n} | **{statistics.median(r):.2f}×** | {min(r):.2f}× | {max(r):.2f}× | {len(r)} |")
