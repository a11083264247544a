// A wasm_eval program in Go (language `go`, or `tinygo`). The request's inputData arrives
// as JSON on standard input; the JSON written to standard output becomes outputData.
// Exiting with a non-zero status (or panicking) sends the request to the error port with
// the end of standard error as the message.
//
// Package-level variables are initialised once, when the host snapshots the program;
// every request then starts from that snapshot in a fresh instance, so nothing a request
// changes is seen by the next one.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// Input is what the edge's inputData mapping produces.
type Input struct {
	Name string `json:"name"`
}

// Output becomes the response's outputData.
type Output struct {
	Greeting string `json:"greeting"`
}

func main() {
	var in Input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "inputData is not the expected JSON:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(Output{Greeting: "Hello, " + in.Name + "!"})
}
