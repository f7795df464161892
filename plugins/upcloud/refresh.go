package upcloud

import (
	"context"
	"encoding/json"
	"math"
	"strings"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"
)

// hoursPerMonth is UpCloud's monthly cap: an hourly price times 672 is the monthly price.
const hoursPerMonth = 672

// RefreshPrices builds a new prices.json from an account's own prices (GET /1.3/price, cents per
// hour, and GET /1.3/plan for the storage each plan includes), dated asOf, in the account's currency
// (the table says USD: refresh from a USD account).
func RefreshPrices(ctx context.Context, svc *service.Service, asOf string) ([]byte, error) {
	byZone, err := svc.GetPricesByZone(ctx)
	if err != nil {
		return nil, apiError("GetPrices", err)
	}
	plans, err := svc.GetPlans(ctx)
	if err != nil {
		return nil, apiError("GetPlans", err)
	}
	t := priceTable{AsOf: asOf, Currency: prices.Currency, Source: "GET /1.3/price and /1.3/plan of an UpCloud account, " +
		"hourly prices × 672 hours (UpCloud's monthly cap).", Plans: map[string]map[string]float64{},
		PlanStorageGB: map[string]float64{}, StorageGBMonth: map[string]map[string]float64{}}
	for _, p := range plans.Plans {
		t.PlanStorageGB[p.Name] = float64(p.StorageSize)
	}
	round := func(v float64, places int) float64 {
		f := math.Pow(10, float64(places))
		return math.Round(v*f) / f
	}
	for zone, items := range *byZone {
		for name, p := range items {
			if p.Amount <= 0 {
				continue
			}
			monthly := p.Price / float64(p.Amount) * hoursPerMonth / 100
			if plan, ok := strings.CutPrefix(name, "server_plan_"); ok {
				if t.Plans[zone] == nil {
					t.Plans[zone] = map[string]float64{}
				}
				t.Plans[zone][plan] = round(monthly, 2)
			}
			if tier, ok := strings.CutPrefix(name, "storage_"); ok && (tier == "maxiops" || tier == "standard" || tier == "hdd") {
				if t.StorageGBMonth[zone] == nil {
					t.StorageGBMonth[zone] = map[string]float64{}
				}
				t.StorageGBMonth[zone][tier] = round(monthly, 3)
			}
		}
	}
	out, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
