// Command cgo writes a goroutine dump of a program with goroutines blocked
// in C calls (see ../main.go).
package main

/*
#include <unistd.h>
static void block(void) { sleep(3600); }
*/
import "C"

import (
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

func main() {
	out := flag.String("out", ".", "directory to write the dump to")
	flag.Parse()
	for range 2 {
		go C.block()
	}
	time.Sleep(50 * time.Millisecond) // let the goroutines enter C: a fixture generator, not a test
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	if err := os.WriteFile(filepath.Join(*out, "full-cgo.txt"), buf[:n], 0o644); err != nil {
		log.Fatal(err)
	}
}
