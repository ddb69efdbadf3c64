// Command holdmem occupies GPU memory from a process of its own, so that a GPU check can show that
// the brain sees device-wide free memory drop. It loads libcuda.so.1 at run time (no CUDA toolkit
// needed to build), allocates the bytes on CUDA device 0, prints one line, and holds them until
// its standard input closes.
//
//	go build -o holdmem ./testdata/gpu/holdmem && ./holdmem 10737418240
package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

typedef int (*cuInit_t)(unsigned int);
typedef int (*cuDeviceGet_t)(int *, int);
typedef int (*cuDevicePrimaryCtxRetain_t)(void **, int);
typedef int (*cuCtxSetCurrent_t)(void *);
typedef int (*cuMemAlloc_t)(unsigned long long *, size_t);

// hold returns 0 on success, -1 when libcuda or a symbol is missing, else the failing step * 1000
// plus the CUresult.
static int hold(size_t bytes) {
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	if (!h) return -1;
	cuInit_t cuInit = (cuInit_t)dlsym(h, "cuInit");
	cuDeviceGet_t cuDeviceGet = (cuDeviceGet_t)dlsym(h, "cuDeviceGet");
	cuDevicePrimaryCtxRetain_t retain = (cuDevicePrimaryCtxRetain_t)dlsym(h, "cuDevicePrimaryCtxRetain");
	cuCtxSetCurrent_t setCurrent = (cuCtxSetCurrent_t)dlsym(h, "cuCtxSetCurrent");
	cuMemAlloc_t memAlloc = (cuMemAlloc_t)dlsym(h, "cuMemAlloc_v2");
	if (!cuInit || !cuDeviceGet || !retain || !setCurrent || !memAlloc) return -1;
	int r, dev;
	void *ctx;
	unsigned long long ptr;
	if ((r = cuInit(0))) return 1000 + r;
	if ((r = cuDeviceGet(&dev, 0))) return 2000 + r;
	if ((r = retain(&ctx, dev))) return 3000 + r;
	if ((r = setCurrent(ctx))) return 4000 + r;
	if ((r = memAlloc(&ptr, bytes))) return 5000 + r;
	return 0;
}
*/
import "C"

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: holdmem BYTES")
		os.Exit(2)
	}
	bytes, err := strconv.ParseUint(os.Args[1], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "holdmem:", err)
		os.Exit(2)
	}
	if r := C.hold(C.size_t(bytes)); r != 0 {
		fmt.Fprintf(os.Stderr, "holdmem: CUDA allocation of %d bytes failed (code %d)\n", bytes, int(r))
		os.Exit(1)
	}
	fmt.Printf("holding %d bytes on CUDA device 0\n", bytes)
	_, _ = io.Copy(io.Discard, os.Stdin)
}
