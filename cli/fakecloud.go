package cli

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	fakeec2 "github.com/provhq/prov/internal/fakecloud/ec2"
	fakeupcloud "github.com/provhq/prov/internal/fakecloud/upcloud"
)

// fakecloudOptions are the flags of prov __fakecloud.
type fakecloudOptions struct {
	addr, region string
	transition   time.Duration
	rate         float64
}

// fakeclouds start the project's fake cloud APIs: each serves on addr and returns its endpoint URL.
var fakeclouds = map[string]func(o fakecloudOptions) (url string, stop func() error, err error){
	"ec2": func(o fakecloudOptions) (string, func() error, error) {
		_, url, stop, err := fakeec2.Listen(o.addr, fakeec2.Options{Region: o.region, Transition: o.transition, RequestsPerSecond: o.rate})
		return url, stop, err
	},
	"upcloud": func(o fakecloudOptions) (string, func() error, error) {
		_, url, stop, err := fakeupcloud.Listen(o.addr, fakeupcloud.Options{Transition: o.transition})
		return url, stop, err
	},
}

// newCmdFakecloud is the hidden `prov __fakecloud NAME`: it serves a fake cloud API on loopback, prints
// its URL and serves until interrupted, so examples can be planned and applied without a cloud:
//
//	prov __fakecloud ec2 -addr 127.0.0.1:0   # prints http://127.0.0.1:PORT
//	AWS_ENDPOINT_URL_EC2=http://127.0.0.1:PORT prov apply
//	prov __fakecloud upcloud -addr 127.0.0.1:0   # any UpCloud credentials are accepted
//	UPCLOUD_API_URL=http://127.0.0.1:PORT UPCLOUD_USERNAME=u UPCLOUD_PASSWORD=p prov apply
func newCmdFakecloud() *cobra.Command {
	var o fakecloudOptions
	cmd := &cobra.Command{
		Use:    "__fakecloud NAME",
		Short:  "Serve a fake cloud API on loopback for local runs and tests",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start, ok := fakeclouds[args[0]]
			if !ok {
				return fmt.Errorf("no fake cloud %q (have %v)", args[0], slices.Sorted(maps.Keys(fakeclouds)))
			}
			url, stop, err := start(o)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintln(cmd.OutOrStdout(), url)
			<-cmd.Context().Done() // prov's root cancels it on SIGINT and SIGTERM
			return nil
		},
	}
	cmd.Flags().StringVar(&o.addr, "addr", "127.0.0.1:0", "address to listen on")
	cmd.Flags().StringVar(&o.region, "region", "us-east-1", "region the fake pretends to be")
	cmd.Flags().DurationVar(&o.transition, "transition", 500*time.Millisecond, "how long pending, stopping and other intermediate states last")
	cmd.Flags().Float64Var(&o.rate, "rate", 0, "requests per second past which the API throttles (0: no limit)")
	return cmd
}
