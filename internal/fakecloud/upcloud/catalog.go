package upcloud

import (
	"net/http"
	"slices"
	"strconv"
)

// Zone is a zone of the fake's catalogue.
type Zone struct {
	ID, Description string
}

// Zones are the public zones the fake knows.
var Zones = []Zone{
	{"de-fra1", "Frankfurt #1"}, {"es-mad1", "Madrid #1"}, {"fi-hel1", "Helsinki #1"}, {"fi-hel2", "Helsinki #2"},
	{"nl-ams1", "Amsterdam #1"}, {"pl-waw1", "Warsaw #1"}, {"se-sto1", "Stockholm #1"}, {"sg-sin1", "Singapore #1"},
	{"uk-lon1", "London #1"}, {"us-chi1", "Chicago #1"}, {"us-nyc1", "New York #1"}, {"us-sjo1", "San Jose #1"},
}

// Plan is a server plan of the fake's catalogue; MonthlyPrice is its list price per month in the fake
// account's currency, USD.
type Plan struct {
	Name         string
	Cores        int
	MemoryMB     int
	StorageGB    int
	StorageTier  string
	TransferGB   int
	MonthlyPrice float64
}

// Plans are the General Purpose and Developer plans the fake knows.
var Plans = []Plan{
	{"DEV-1xCPU-1GB-10GB", 1, 1024, 10, "standard", 1024, 3},
	{"DEV-1xCPU-2GB", 1, 2048, 30, "standard", 1024, 8},
	{"1xCPU-1GB", 1, 1024, 25, "maxiops", 1024, 7},
	{"1xCPU-2GB", 1, 2048, 50, "maxiops", 2048, 13},
	{"2xCPU-4GB", 2, 4096, 80, "maxiops", 4096, 26},
	{"4xCPU-8GB", 4, 8192, 160, "maxiops", 5120, 52},
	{"6xCPU-16GB", 6, 16384, 320, "maxiops", 6144, 96},
	{"8xCPU-32GB", 8, 32768, 640, "maxiops", 7168, 192},
}

// Storage prices per GB-month by tier, USD.
var storagePrices = map[string]float64{"maxiops": 0.22, "standard": 0.06, "hdd": 0.056}

// Template is a public OS template storage.
type Template struct {
	UUID, Title string
	Size        int
}

// Templates are the public templates the fake holds, with UpCloud's own uuids.
var Templates = []Template{
	{"01000000-0000-4000-8000-000030240200", "Ubuntu Server 24.04 LTS (Noble Numbat)", 4},
	{"01000000-0000-4000-8000-000030220200", "Ubuntu Server 22.04 LTS (Jammy Jellyfish)", 4},
	{"01000000-0000-4000-8000-000020070100", "Debian GNU/Linux 12 (Bookworm)", 4},
	{"01000000-0000-4000-8000-000150020100", "Rocky Linux 9", 4},
}

func findPlan(name string) (Plan, bool) {
	i := slices.IndexFunc(Plans, func(p Plan) bool { return p.Name == name })
	if i < 0 {
		return Plan{}, false
	}
	return Plans[i], true
}

func knownZone(id string) bool {
	return slices.ContainsFunc(Zones, func(z Zone) bool { return z.ID == id })
}

func (s *Server) listZones(*http.Request, []string, []byte) (int, any, error) {
	var zs []any
	for _, z := range Zones {
		zs = append(zs, map[string]any{"id": z.ID, "description": z.Description, "public": "yes"})
	}
	return http.StatusOK, map[string]any{"zones": map[string]any{"zone": zs}}, nil
}

func (s *Server) listPlans(*http.Request, []string, []byte) (int, any, error) {
	var ps []any
	for _, p := range Plans {
		ps = append(ps, map[string]any{"name": p.Name, "core_number": p.Cores, "memory_amount": p.MemoryMB,
			"storage_size": p.StorageGB, "storage_tier": p.StorageTier, "public_traffic_out": p.TransferGB})
	}
	return http.StatusOK, map[string]any{"plans": map[string]any{"plan": ps}}, nil
}

// listPrices answers like UpCloud: per zone, each priced item with amount 1 and its price in cents
// per hour (a month is 672 hours, UpCloud's monthly cap).
func (s *Server) listPrices(*http.Request, []string, []byte) (int, any, error) {
	var zs []any
	for _, z := range Zones {
		zone := map[string]any{"name": z.ID}
		for _, p := range Plans {
			zone["server_plan_"+p.Name] = map[string]any{"amount": 1, "price": cents(p.MonthlyPrice)}
		}
		for tier, gb := range storagePrices {
			zone["storage_"+tier] = map[string]any{"amount": 1, "price": cents(gb)}
		}
		zs = append(zs, zone)
	}
	return http.StatusOK, map[string]any{"prices": map[string]any{"zone": zs}}, nil
}

// cents converts a monthly price to cents per hour, rounded to 4 decimals as UpCloud shows them.
func cents(monthly float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(monthly*100/672, 'f', 4, 64), 64)
	return v
}
