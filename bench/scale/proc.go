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

// peakSampler watches the descendants of one process through /proc and remembers the largest peak
// resident set (VmHWM) any of them reached. The kernel keeps the high-water mark itself, so sampling
// every few tens of milliseconds misses at most the growth in a process's last moments. Where there is
// no /proc it reports 0.
type peakSampler struct {
	root int
	done chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	peak int64 // KiB
}

const sampleEvery = 25 * time.Millisecond

func newPeakSampler(root int) *peakSampler {
	s := &peakSampler{root: root, done: make(chan struct{})}
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

// stop ends the sampling and returns the peak in KiB.
func (s *peakSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

func (s *peakSampler) sample() {
	for _, pid := range descendants(s.root) {
		if kb := highWaterMark(pid); kb > 0 {
			s.mu.Lock()
			s.peak = max(s.peak, kb)
			s.mu.Unlock()
		}
	}
}

// descendants lists the processes below root (not root itself), from the parent ids in /proc/*/stat.
func descendants(root int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
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
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) < 2 {
			continue
		}
		pid, err1 := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		ppid, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], pid)
		}
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
