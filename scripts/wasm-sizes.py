#!/usr/bin/env python3
# Where the wasm bytes go, by crate: reads the code and name sections of an unoptimised wasm that
# still has its names (after `make build`: target/front/wasm32-unknown-unknown/wasm-release/app_split.wasm
# is the main module of a split build before wasm-opt). Usage: scripts/wasm-sizes.py FILE [TOP]
# Prints the largest functions (mangled), then a rough share per crate (first crate named in the symbol).
import sys, collections
def leb(b, i):
    r=s=0
    while True:
        x=b[i]; i+=1; r|=(x&0x7f)<<s; s+=7
        if x<0x80: return r,i
def sections(b):
    i=8
    while i<len(b):
        sid=b[i]; i+=1; n,i=leb(b,i); yield sid, b[i:i+n]; i+=n
b=open(sys.argv[1],'rb').read()
imports=0; bodies=[]; names={}
for sid,data in sections(b):
    if sid==2:
        n,j=leb(data,0)
        for _ in range(n):
            l,j=leb(data,j); j+=l; l,j=leb(data,j); j+=l; kind=data[j]; j+=1
            if kind==0: _,j=leb(data,j); imports+=1
            elif kind==1: j+=1; f,j=leb(data,j); _,j=leb(data,j); j = leb(data,j)[1] if f&1 else j
            elif kind==2: f,j=leb(data,j); _,j=leb(data,j); j = leb(data,j)[1] if f&1 else j
            elif kind==3: j+=2
    elif sid==10:
        n,j=leb(data,0)
        for _ in range(n):
            l,j=leb(data,j); bodies.append(l); j+=l
    elif sid==0:
        l,j=leb(data,0); nm=data[j:j+l].decode(); j+=l
        print("custom", nm, len(data))
        if nm=="name":
            while j<len(data):
                sub=data[j]; j+=1; sz,j=leb(data,j); end=j+sz
                if sub==1:
                    n,k=leb(data,j)
                    for _ in range(n):
                        idx,k=leb(data,k); l,k=leb(data,k); names[idx]=data[k:k+l].decode('utf8','replace'); k+=l
                j=end
print("functions", len(bodies), "code bytes", sum(bodies), "named", len(names))
agg=collections.Counter()
import re
for i,sz in enumerate(bodies):
    nm=names.get(imports+i,"?")
    # crate prefix
    m=re.match(r'_?Z?N?\d*([A-Za-z_][A-Za-z0-9_]*)', nm)
    key=nm.split("::")[0].lstrip("<&") if "::" in nm else nm[:40]
    agg[key]+=sz
for k,v in agg.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 30): print(v,k)
print("---- by crate")
crates=["3app","regex_automata","regex_syntax","aho_corasick","5regex","validator","4idna","3url","6chrono","4uuid","10serde_json","9server_fn","13leptos_router","11leptos_meta","6tachys","14reactive_graph","6leptos","4http","7futures","9either_of","8dlmalloc","9hashbrown","12wasm_bindgen","7web_sys","6js_sys","5serde","4core","5alloc","3std"]
agg=collections.Counter()
for i,sz in enumerate(bodies):
    nm=names.get(imports+i,"?").replace("..","::")
    nm2=nm
    hit="other"
    for c in crates:
        cc=c.lstrip("0123456789")
        if c in nm or (cc+"::") in nm or ("_"+cc+"::") in nm:
            hit=cc;break
    agg[hit]+=sz
for k,v in agg.most_common(): print(v,k)
