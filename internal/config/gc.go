package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// GC tunes the garbage collector, from the variables the Go runtime reads
// itself, GOGC and GOMEMLIMIT, with the same syntax. Read here, they work
// from .env too, and their defaults differ from Go's: the service's live
// heap is about a megabyte, so Go's default (GOGC=100, a 4 MB minimum
// goal) collects every few dozen requests; GOGC=400 collects four times
// less often, for some 10 MB more memory. The memory limit keeps that
// growth bounded should the live heap ever be large: near it, the
// collector runs as often as needed instead.
type GC struct {
	Percent     int   // GOGC: the heap grows by this percentage between collections; -1 is off
	MemoryLimit int64 // GOMEMLIMIT in bytes; math.MaxInt64 is none
}

// Defaults of GOGC and GOMEMLIMIT; GOGC=100 and GOMEMLIMIT=off are Go's.
const (
	DefaultGCPercent   = 400
	DefaultMemoryLimit = 512 << 20
)

func (p *parser) gc() GC {
	return GC{Percent: p.gcPercent("GOGC", DefaultGCPercent), MemoryLimit: p.byteCount("GOMEMLIMIT", DefaultMemoryLimit)}
}

// gcPercent parses GOGC: a whole number, or "off".
func (p *parser) gcPercent(name string, def int) int {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	if v == "off" {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(name, fmt.Sprintf("must be a whole number (a percentage) or 'off', got %q", v))
		return def
	}
	return n
}

// byteCount parses GOMEMLIMIT as the runtime does: a whole number of bytes
// with an optional unit (B, KiB, MiB, GiB or TiB), or "off".
func (p *parser) byteCount(name string, def int64) int64 {
	v, ok := p.raw(name)
	if !ok {
		return def
	}
	if v == "off" {
		return math.MaxInt64
	}
	num, unit := v, int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if s, found := strings.CutSuffix(v, u.suffix); found {
			num, unit = s, u.size
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/unit {
		p.fail(name, fmt.Sprintf("must be a number of bytes with an optional unit (B, KiB, MiB, GiB, TiB), or 'off', got %q", v))
		return def
	}
	return n * unit
}
