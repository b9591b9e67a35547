// SPDX-License-Identifier: Apache-2.0
// gofcgi.go - Go net/http/fcgi worker for the mod_fcgi_pm test suite.
//
// Build (standard library only):
//   go build -o gofcgi t/apps/gofcgi.go
//
// Serves FastCGI on the listen socket it inherits as fd 0.  Go's runtime
// polls it with epoll (so the socket is put in non-blocking mode) and has
// no graceful signal: SIGTERM and SIGUSR1 end the process at once.
//
// Answer (text/plain): APP=go  PID=...  REQS=...  QUERY_STRING=...
// "sleep=MS" sleeps before answering.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

var reqs int64

func handler(w http.ResponseWriter, r *http.Request) {
	n := atomic.AddInt64(&reqs, 1)
	if ms, err := strconv.Atoi(r.URL.Query().Get("sleep")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Worker-Pid", strconv.Itoa(os.Getpid()))
	fmt.Fprintf(w, "APP=go\nPID=%d\nREQS=%d\nQUERY_STRING=%s\n", os.Getpid(), n, r.URL.RawQuery)
}

func main() {
	l, err := net.FileListener(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gofcgi: fd 0 is not a listening socket: %v\n", err)
		os.Exit(2)
	}
	if err := fcgi.Serve(l, http.HandlerFunc(handler)); err != nil {
		fmt.Fprintf(os.Stderr, "gofcgi: %v\n", err)
		os.Exit(1)
	}
}
