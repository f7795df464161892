// Command refreshprices rewrites the upcloud provider's dated price table from an UpCloud account's own
// prices, with the credentials and base URL the provider takes from the environment:
//
//	UPCLOUD_USERNAME=… UPCLOUD_PASSWORD=… go run ./plugins/upcloud/refreshprices -o plugins/upcloud/prices.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/client"
	"github.com/UpCloudLtd/upcloud-go-api/v8/upcloud/service"

	"github.com/provhq/prov/plugins/upcloud"
)

func main() {
	out := flag.String("o", "prices.json", "file to write")
	asOf := flag.String("date", time.Now().UTC().Format("2006-01-02"), "date of the prices")
	flag.Parse()
	var opts []client.ConfigFn
	if u := os.Getenv(upcloud.EnvAPIURL); u != "" {
		opts = append(opts, client.WithBaseURL(u))
	}
	c, err := client.NewFromEnv(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "refreshprices:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, err := upcloud.RefreshPrices(ctx, service.New(c), *asOf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "refreshprices:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "refreshprices:", err)
		os.Exit(1)
	}
}
