package config

import (
	"math"
	"strings"
	"testing"
)

func TestGC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		gogc, lim string // "" leaves the variable unset
		want      GC
		wantErr   string // the variable named in the error
	}{
		{name: "defaults", want: GC{Percent: DefaultGCPercent, MemoryLimit: DefaultMemoryLimit}},
		{name: "Go's defaults", gogc: "100", lim: "off", want: GC{Percent: 100, MemoryLimit: math.MaxInt64}},
		{name: "gc off", gogc: "off", lim: "1GiB", want: GC{Percent: -1, MemoryLimit: 1 << 30}},
		{name: "bytes", gogc: "0", lim: "123456", want: GC{Percent: 0, MemoryLimit: 123456}},
		{name: "units", gogc: "250", lim: "64MiB", want: GC{Percent: 250, MemoryLimit: 64 << 20}},
		{name: "B", lim: "1000B", want: GC{Percent: DefaultGCPercent, MemoryLimit: 1000}},
		{name: "KiB", lim: "8KiB", want: GC{Percent: DefaultGCPercent, MemoryLimit: 8 << 10}},
		{name: "TiB", lim: "2TiB", want: GC{Percent: DefaultGCPercent, MemoryLimit: 2 << 40}},
		{name: "GOGC text", gogc: "fast", wantErr: "GOGC"},
		{name: "GOGC negative", gogc: "-5", wantErr: "GOGC"},
		{name: "GOMEMLIMIT SI unit", lim: "512MB", wantErr: "GOMEMLIMIT"},
		{name: "GOMEMLIMIT fraction", lim: "1.5GiB", wantErr: "GOMEMLIMIT"},
		{name: "GOMEMLIMIT negative", lim: "-1", wantErr: "GOMEMLIMIT"},
		{name: "GOMEMLIMIT overflow", lim: "9000000TiB", wantErr: "GOMEMLIMIT"},
		{name: "GOMEMLIMIT unit only", lim: "MiB", wantErr: "GOMEMLIMIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"API_KEY": "k"}
			if tt.gogc != "" {
				env["GOGC"] = tt.gogc
			}
			if tt.lim != "" {
				env["GOMEMLIMIT"] = tt.lim
			}
			c, err := Parse(lookup(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.GC != tt.want {
				t.Fatalf("GC = %+v, want %+v", c.GC, tt.want)
			}
		})
	}
}
