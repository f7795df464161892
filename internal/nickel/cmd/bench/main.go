// Command bench measures prov's Nickel evaluator on generated infrastructure configurations: for each
// size it evaluates and exports GenerateConfig(n) and prints wall time, CPU time and peak memory.
//
//	go run ./internal/nickel/cmd/bench [-n 1000,10000,20000]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/provhq/prov/internal/nickel"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

func main() {
	sizes := flag.String("n", "10000", "comma-separated numbers of resources")
	flag.Parse()
	dir, err := os.MkdirTemp("", "nickel-bench")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: bad size:", s)
			os.Exit(2)
		}
		p := filepath.Join(dir, fmt.Sprintf("main-%d.ncl", n))
		if err := os.WriteFile(p, []byte(nickel.GenerateConfig(n)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cpu0, t0 := cpuTime(), time.Now()
		out, err := nickel.Export([]string{p}, nickel.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("n=%d: wall %v, cpu %v, output %d bytes, peak RSS %d MB\n",
			n, time.Since(t0).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond), len(out), peakRSS()>>20)
	}
}
