package upcloud

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// pricesJSON is the dated price table: zones × plans → monthly price, the storage each plan includes,
// and zones × storage tiers → price per GB-month, in the currency it names (USD, the unit of
// sdk.Data.SetMonthlyCost).
//
//go:embed prices.json
var pricesJSON []byte

// priceTable is the shape of prices.json.
type priceTable struct {
	AsOf           string                        `json:"as_of"`
	Currency       string                        `json:"currency"`
	Source         string                        `json:"source"`
	Plans          map[string]map[string]float64 `json:"plans"`
	PlanStorageGB  map[string]float64            `json:"plan_storage_gb"`
	StorageGBMonth map[string]map[string]float64 `json:"storage_gb_month"`
}

var prices = mustPrices(pricesJSON)

func mustPrices(data []byte) *priceTable {
	var t priceTable
	if err := json.Unmarshal(data, &t); err != nil {
		panic(fmt.Sprintf("upcloud: prices.json: %v", err))
	}
	return &t
}

// ServerMonthlyCost estimates the monthly cost of a server of plan in zone whose disks have the sizes
// and tiers given: the plan's price, plus the storage beyond what the plan includes at its tier's
// price. ok is false when the table lacks the plan or the zone.
func ServerMonthlyCost(zone, plan string, disks []Disk) (usd float64, ok bool) {
	p, ok := prices.Plans[zone][plan]
	if !ok {
		return 0, false
	}
	included := prices.PlanStorageGB[plan]
	for _, d := range disks {
		extra := d.SizeGB - included
		included = max(0, included-d.SizeGB)
		if extra > 0 {
			p += extra * prices.StorageGBMonth[zone][d.Tier]
		}
	}
	return p, true
}

// StorageMonthlyCost estimates the monthly cost of a storage of sizeGB of tier in zone.
func StorageMonthlyCost(zone, tier string, sizeGB float64) (usd float64, ok bool) {
	p, ok := prices.StorageGBMonth[zone][tier]
	return p * sizeGB, ok
}

// Disk is a disk's size and tier, for ServerMonthlyCost.
type Disk struct {
	SizeGB float64
	Tier   string
}

// PricesAsOf is the date of the price table.
func PricesAsOf() string { return prices.AsOf }
