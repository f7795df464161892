package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"zone", "plan", "hostname", "storage", "network_interfaces"}
	tests := []struct{ in, want string }{
		{"zonee", "zone"},
		{"zoen", "zone"},
		{"hostnmae", "hostname"},
		{"netwrok_interface", "network_interfaces"},
		{"region", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Closest(tt.in, names); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"zone", "zoen", 2}, {"same", "same", 0}} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
