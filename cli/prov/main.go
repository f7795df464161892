// Command prov plans and applies infrastructure described in Nickel. See the README.
package main

import (
	"os"

	"github.com/provhq/prov/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
