package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"
)

// Serve runs an in-process Env for a parent process (see Child): it writes one JSON line with the brokers and
// the simulator URL to out, then answers one JSON Request per line of in with one JSON Response line, until in
// ends.
func Serve(ctx context.Context, brokers []string, in io.Reader, out io.Writer) error {
	env, err := InProcess(brokers)
	if err != nil {
		return err
	}
	defer env.Close()
	enc := json.NewEncoder(out)
	if err := enc.Encode(hello{Brokers: env.Brokers(), SimURL: env.SimURL()}); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var req Request
		var resp Response
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			resp.Error = err.Error()
		} else if resp, err = env.Do(ctx, req); err != nil {
			resp.Error = err.Error()
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
	return sc.Err()
}

type hello struct {
	Brokers []string `json:"brokers"`
	SimURL  string   `json:"sim_url"`
}

// child is an Env served by another process running Serve.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	hello hello
	mu    sync.Mutex
}

// Child starts cmd, which must run Serve on its stdin and stdout, and talks to it. Closing the Env closes the
// child's stdin and waits for it to exit.
func Child(cmd *exec.Cmd) (Env, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %s: %v", ErrEnv, cmd.Path, err)
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	c.out.Buffer(make([]byte, 64<<10), 16<<20)
	if !c.out.Scan() {
		c.Close()
		return nil, fmt.Errorf("%w: the environment process exited before it was ready", ErrEnv)
	}
	if err := json.Unmarshal(c.out.Bytes(), &c.hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: environment process: %v", ErrEnv, err)
	}
	return c, nil
}

func (c *child) Brokers() []string { return c.hello.Brokers }
func (c *child) SimURL() string    { return c.hello.SimURL }

func (c *child) Do(_ context.Context, req Request) (Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrEnv, err)
	}
	if !c.out.Scan() {
		return Response{}, fmt.Errorf("%w: the environment process exited", ErrEnv)
	}
	var resp Response
	if err := json.Unmarshal(c.out.Bytes(), &resp); err != nil {
		return Response{}, fmt.Errorf("%w: %v", ErrEnv, err)
	}
	if resp.Error != "" {
		return resp, fmt.Errorf("%w: %s", ErrEnv, resp.Error)
	}
	return resp, nil
}

func (c *child) Close() error {
	_ = c.in.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		return <-done
	}
}
