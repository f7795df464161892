package aws

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// pricesJSON is the dated on-demand price table: instance types × regions → USD per hour, and EBS
// volume types × regions → USD per GB-month.
//
//go:embed prices.json
var pricesJSON []byte

// priceTable is the shape of prices.json.
type priceTable struct {
	AsOf          string                        `json:"as_of"`
	Currency      string                        `json:"currency"`
	Source        string                        `json:"source"`
	HoursPerMonth float64                       `json:"hours_per_month"`
	Instances     map[string]map[string]float64 `json:"instances"`
	EBSGBMonth    map[string]map[string]float64 `json:"ebs_gb_month"`
}

var prices = mustPrices(pricesJSON)

func mustPrices(data []byte) *priceTable {
	var t priceTable
	if err := json.Unmarshal(data, &t); err != nil {
		panic(fmt.Sprintf("aws: prices.json: %v", err))
	}
	return &t
}

// instanceHourly is the on-demand price per hour of an instance type in a region.
func (t *priceTable) instanceHourly(region, typ string) (float64, bool) {
	p, ok := t.Instances[region][typ]
	return p, ok
}

// volumeGBMonth is the price per GB-month of an EBS volume type in a region.
func (t *priceTable) volumeGBMonth(region, typ string) (float64, bool) {
	p, ok := t.EBSGBMonth[region][typ]
	return p, ok
}

// MonthlyCost estimates the monthly cost in USD of an instance type with a root volume of rootGB of
// volume type rootType in region, from the price table; ok is false when the table lacks the type
// or the region.
func MonthlyCost(region, instanceType string, rootGB float64, rootType string) (usd float64, ok bool) {
	return ServerMonthlyCost(region, instanceType, []Disk{{SizeGB: rootGB, Type: rootType}})
}

// Disk is an EBS volume's size and type, for ServerMonthlyCost.
type Disk struct {
	SizeGB float64
	Type   string
}

// ServerMonthlyCost estimates the monthly cost in USD of an instance type with the EBS volumes disks
// in region, from the price table; ok is false when the table lacks the type or the region.
func ServerMonthlyCost(region, instanceType string, disks []Disk) (usd float64, ok bool) {
	h, ok := prices.instanceHourly(region, instanceType)
	if !ok {
		return 0, false
	}
	usd = h * prices.HoursPerMonth
	for _, d := range disks {
		gb, _ := prices.volumeGBMonth(region, d.Type)
		usd += gb * d.SizeGB
	}
	return usd, true
}

// PricesAsOf is the date of the price table.
func PricesAsOf() string { return prices.AsOf }
