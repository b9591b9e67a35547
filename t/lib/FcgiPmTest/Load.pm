# SPDX-License-Identifier: Apache-2.0
package FcgiPmTest::Load;

# The load generator of the test harness (FcgiPmTest's load_start /
# load_finish) and bench/run: forked client processes that each send one
# request per connection in a loop, with FcgiPmTest::HTTP, and record one
# line per request into their own file; the parent reads the files back
# when the load is finished.
#
# Clients stop by themselves: on a stop file (after their share of
# requests), after max_seconds, or when the process that forked them is
# gone.  The pids of the clients this process forked are kept here
# (%CLIENTS) until they are reaped, so that a test's or the bench's
# cleanup, and this module's END block, can end the unfinished ones.  A
# pid is signalled only if it is a number > 1, not this process, and one
# of those clients; never by name.

use strict;
use warnings;

use Carp qw(croak);
use Exporter 'import';
use File::Path qw(make_path);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);

use FcgiPmTest::HTTP qw(http_request);

our @EXPORT_OK = qw(
    start_clients finish_clients abort_clients abort_all_clients
    summarize_records load_summary_text
);

my %CLIENTS;              # pid => 1: clients forked by this process, not yet reaped
my $OWNER_PID = $$;

# start_clients(%opt) -> $load
#   port          the server's port (required)
#   dir           where the clients write client-N.log (required; created)
#   clients       number of client processes (default 4)
#   per_client    requests each client does at least before it looks at
#                 the stop file (default 0)
#   until_stopped keep going until finish_clients() (else the stop file
#                 is there from the start: each client does per_client)
#   max_seconds   hard bound per client (default 120)
#   path          '/x' or sub { my ($client, $i) = @_; return '/x?...' }
#   expect        regex the body of a 2xx answer must match (else bad body)
#   think_ms      pause between two requests of one client
#   timeout       per request (default 60 s)
#   request       sub { my ($path) = @_; return $response } instead of
#                 http_request(port, path, timeout); the response is
#                 http_request's shape (status, body, elapsed, error)
#   window        sub { my ($client) = @_; return ($from, $to) }: client
#                 N sends its first request $from seconds after the start
#                 and none from $to seconds on (a load that ramps up and
#                 down: bench/run's ramp); without it, all clients start
#                 at once and stop as above
# Each client records one line per request:
#   start_epoch  elapsed_ms  status  ok(0/1)  path  error
sub start_clients {
    my (%o) = @_;
    my $port = $o{port} or croak 'start_clients: port required';
    my $dir = $o{dir} or croak 'start_clients: dir required';
    my %load = (
        dir => $dir, stop => "$dir/stop", clients => $o{clients} || 4,
        per_client => $o{per_client} || 0, max_seconds => $o{max_seconds} || 120,
        timeout => $o{timeout} || 60, think => ($o{think_ms} || 0) / 1000,
        path => $o{path} // '/', expect => $o{expect}, window => $o{window},
        pids => [], started => time,
    );
    $load{request} = $o{request}
        || sub { http_request(port => $port, path => $_[0], timeout => $load{timeout}) };
    make_path($dir);
    unlink $load{stop};
    _touch($load{stop}) unless $o{until_stopped};
    my $parent = $$;
    for my $c (0 .. $load{clients} - 1) {
        my $pid = fork;
        croak "fork: $!" unless defined $pid;
        if ($pid == 0) {
            # Client process: no Test::More, no END blocks, no cleanup; a
            # die (in a path callback, say) must not return into the test.
            my $ok = eval { _client_loop(\%load, $c, $parent); 1 };
            POSIX::_exit($ok ? 0 : 3);
        }
        $CLIENTS{$pid} = 1;
        push @{ $load{pids} }, $pid;
    }
    return \%load;
}

sub _touch { my ($f) = @_; open my $fh, '>', $f or return; close $fh }

# One client: requests until its share is done and the stop file is there,
# its time is up or its parent is gone.
sub _client_loop {
    my ($load, $c, $parent) = @_;
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
    # A reset connection is a failed request to record, not a reason to die.
    $SIG{PIPE} = 'IGNORE';
    srand($$ ^ int(time * 1000));
    open my $out, '>', "$load->{dir}/client-$c.log" or POSIX::_exit(2);
    $out->autoflush(1);
    my $deadline = time + $load->{max_seconds};
    if ($load->{window}) {
        my ($from, $to) = $load->{window}->($c);
        my $start_at = $load->{started} + ($from // 0);
        while (time < $start_at && time < $deadline && getppid() == $parent) {
            my $w = $start_at - time;
            sleep($w > 0.2 ? 0.2 : $w) if $w > 0;
        }
        $deadline = $load->{started} + $to if defined $to && $load->{started} + $to < $deadline;
    }
    my $path = $load->{path};
    my $expect = $load->{expect};
    my $i = 0;
    while (1) {
        last if time >= $deadline;
        last if $i >= $load->{per_client} && -e $load->{stop};
        last if getppid() != $parent;      # the test is gone
        my $p = ref $path eq 'CODE' ? $path->($c, $i) : $path;
        my $start = time;
        my $r = $load->{request}->($p);
        my $good = ($r->{status} =~ /^2\d\d$/
                    && (!$expect || $r->{body} =~ $expect)) ? 1 : 0;
        my $err = $r->{error} // '';
        $err = 'unexpected body: ' . substr($r->{body}, 0, 60)
            if !$err && $r->{status} =~ /^2/ && !$good;
        $err =~ s/[\t\n\r]/ /g;
        printf {$out} "%.4f\t%.1f\t%s\t%d\t%s\t%s\n",
            $start, $r->{elapsed}, $r->{status}, $good, $p, $err;
        $i++;
        sleep $load->{think} if $load->{think} > 0;
    }
    close $out;
}

# finish_clients($load, wait_until => EPOCH) -> records
# Creates the stop file, waits for the clients until wait_until (default:
# their own bound, started + max_seconds + timeout + 30 s), SIGKILLs those
# still running then ($load->{killed} lists them) and reads the records
# back, client by client: { client, t, ms, status, ok, path, err }.
sub finish_clients {
    my ($load, %o) = @_;
    _touch($load->{stop}) unless -e $load->{stop};
    my $bound = $o{wait_until}
        // $load->{started} + $load->{max_seconds} + $load->{timeout} + 30;
    my %left = map { $_ => 1 } @{ $load->{pids} };
    while (%left && time <= $bound) {
        delete $left{$_} for grep { _reaped($_) } keys %left;
        sleep 0.05 if %left;
    }
    $load->{killed} = [sort { $a <=> $b } keys %left];
    _kill_and_reap($_) for @{ $load->{killed} };
    $load->{done} = 1;
    return _read_records($load);
}

# True once $pid (a client of ours) has exited and been reaped.
sub _reaped {
    my ($pid) = @_;
    my $r = waitpid($pid, WNOHANG);
    return 0 if $r == 0;
    delete $CLIENTS{$pid};
    return 1;
}

# SIGKILL one of our clients and reap it; anything else is left alone.
sub _kill_and_reap {
    my ($pid) = @_;
    return 0 unless defined $pid && $pid =~ /^\d+$/ && $pid > 1 && $pid != $$ && $CLIENTS{$pid};
    kill 'KILL', $pid;
    waitpid($pid, 0);
    delete $CLIENTS{$pid};
    return 1;
}

sub _read_records {
    my ($load) = @_;
    my @rec;
    for my $c (0 .. $load->{clients} - 1) {
        open my $fh, '<', "$load->{dir}/client-$c.log" or next;
        while (my $l = <$fh>) {
            chomp $l;
            my @f = split /\t/, $l, 6;
            next unless @f >= 5;
            push @rec, { client => $c, t => $f[0], ms => $f[1], status => $f[2],
                         ok => $f[3], path => $f[4], err => $f[5] // '' };
        }
        close $fh;
    }
    return @rec;
}

# abort_clients($load): SIGKILL and reap its clients (an unfinished load
# at cleanup time).
sub abort_clients {
    my ($load) = @_;
    return if $load->{done};
    _kill_and_reap($_) for @{ $load->{pids} || [] };
    $load->{done} = 1;
}

# abort_all_clients(): SIGKILL and reap every client this process forked
# and has not reaped yet.
sub abort_all_clients {
    return unless $$ == $OWNER_PID;
    _kill_and_reap($_) for sort { $a <=> $b } keys %CLIENTS;
}

# summarize_records(@records) -> summary
#   { total, ok, failed (599/connection), non2xx, bad_body, max_ms, p50_ms,
#     p99_ms, by_status => {}, errors => [first lines of bad requests],
#     records => [[start, ms, status, ok, path, err], ...] }
sub summarize_records {
    my (@records) = @_;
    my %s = (total => 0, ok => 0, failed => 0, non2xx => 0, bad_body => 0,
             by_status => {}, errors => [], records => []);
    my @lat;
    for my $r (@records) {
        push @{ $s{records} }, [@$r{qw(t ms status ok path err)}];
        $s{total}++;
        $s{by_status}{ $r->{status} }++;
        push @lat, $r->{ms};
        if ($r->{ok}) { $s{ok}++ }
        elsif ($r->{status} == 599) { $s{failed}++ }
        elsif ($r->{status} !~ /^2/) { $s{non2xx}++ }
        else { $s{bad_body}++ }
        push @{ $s{errors} }, "client $r->{client}: status $r->{status} after $r->{ms} ms on $r->{path}: $r->{err}"
            if !$r->{ok} && @{ $s{errors} } < 20;
    }
    @lat = sort { $a <=> $b } @lat;
    $s{max_ms} = @lat ? $lat[-1] : 0;
    $s{p50_ms} = @lat ? $lat[int($#lat * 0.5)] : 0;
    $s{p99_ms} = @lat ? $lat[int($#lat * 0.99)] : 0;
    return \%s;
}

# load_summary_text($summary) -> one line for a test's note() or diag().
sub load_summary_text {
    my ($s) = @_;
    my $st = join ' ', map { "$_:$s->{by_status}{$_}" } sort keys %{ $s->{by_status} };
    return sprintf("%d requests, %d ok, %d failed, %d non-2xx, %d bad body; status %s; "
                   . "p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                   @$s{qw(total ok failed non2xx bad_body)}, $st, @$s{qw(p50_ms p99_ms max_ms)});
}

# Last resort: clients left running by a die before finish_clients().
END {
    local $?;
    abort_all_clients();
}

1;
