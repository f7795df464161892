package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// peakSampler watches the descendants of one process (prov's plugin processes) through /proc and
// remembers the largest peak resident set (VmHWM) any of them reached and the CPU time each used. The
// kernel keeps the high-water mark itself, so sampling every few tens of milliseconds misses at most
// the growth in a process's last moments; CPU time used after the last sample is missed. Where there
// is no /proc it reports 0.
type peakSampler struct {
	root int
	done chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	peak int64         // KiB
	cpu  map[int]int64 // clock ticks by pid
}

const sampleEvery = 25 * time.Millisecond

func newPeakSampler(root int) *peakSampler {
	s := &peakSampler{root: root, done: make(chan struct{}), cpu: map[int]int64{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// clockTicks is USER_HZ, the unit of CPU times in /proc/PID/stat: 100 on every Linux platform Go runs on.
const clockTicks = 100

// stop ends the sampling and returns the peak resident set in KiB and the CPU time of all descendants.
func (s *peakSampler) stop() (int64, time.Duration) {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ticks int64
	for _, t := range s.cpu {
		ticks += t
	}
	return s.peak, time.Duration(ticks) * time.Second / clockTicks
}

func (s *peakSampler) sample() {
	procs := processes()
	for _, pid := range descendants(procs, s.root) {
		kb := highWaterMark(pid)
		s.mu.Lock()
		s.peak = max(s.peak, kb)
		s.cpu[pid] = max(s.cpu[pid], procs[pid].cpu)
		s.mu.Unlock()
	}
}

// proc is what /proc/PID/stat says about a process.
type proc struct {
	ppid int
	cpu  int64 // utime + stime, clock ticks
}

// processes reads /proc/*/stat.
func processes() map[int]proc {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	out := make(map[int]proc, len(stats))
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses, so cut at the last ')'.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		// After the comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
		// utime stime …
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) < 13 {
			continue
		}
		pid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, err2 := strconv.Atoi(fields[1])
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		if err1 == nil && err2 == nil {
			out[pid] = proc{ppid: ppid, cpu: utime + stime}
		}
	}
	return out
}

// descendants lists the processes below root (not root itself).
func descendants(procs map[int]proc, root int) []int {
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var out []int
	queue := children[root]
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		out = append(out, pid)
		queue = append(queue, children[pid]...)
	}
	return out
}

// highWaterMark is VmHWM of pid in KiB, or 0.
func highWaterMark(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}
