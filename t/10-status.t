#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 10-status.t - SetHandler fcgi-pm-status through a real httpd.
#
# - HTML (default), ?format=json, ?format=prometheus and ?auto answer 200
#   with their content type; JSON parses with JSON::PP, every Prometheus line
#   matches the text exposition grammar (0.0.4: HELP/TYPE before the samples
#   of their family, families contiguous, label values escaped), every ?auto
#   line is "Key: value".
# - The figures are the real ones: manager pid, worker pids, configured and
#   running counts, per-worker RSS/CPU/age.
# - The requests counter grows by exactly N after N requests (in every
#   format), in_flight goes back to 0.
# - Two slow requests (?sleep=) on a 3-worker app show busy >= 2 while they
#   run, and idle 3 afterwards; five slow requests fill the listen queue and
#   the status page shows it.
# - A worker killed with SIGKILL shows as a crash, a restart and a decoded
#   last exit ("signal 9").
# - A graceful keeps the manager pid, raises "generation" by 1 and keeps the
#   request counter.
# - HTML escapes what it shows (the socket path has <&>'" in it), JSON
#   escapes it too; no Env value or Command argument is shown.
# - /server-status (mod_status) has the mod_fcgi_pm section and ?auto its
#   FcgiPm* lines.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use JSON::PP ();
use IO::Socket::INET;
use FcgiPmTest qw(wait_for pid_alive);

my $t = FcgiPmTest->new;
my $root = $t->root;
my $hello = $t->app('hello');
my $tcp_port = FcgiPmTest::free_port();
$tcp_port = FcgiPmTest::free_port() while $tcp_port == $t->port;

# A socket directory whose name needs escaping in HTML and JSON.
my $odd = q{s<&>'"x};
my $sockdir = "$root/$odd";
(my $sockdir_conf = $sockdir) =~ s/"/\\"/g;

my $ENV_SECRET = 'envsecret-' . int(rand(1e9));
my $ARG_SECRET = 'argsecret-' . int(rand(1e9));

$t->write_conf(<<"EOT", sockdir => $sockdir_conf);
LoadModule status_module /usr/lib/apache2/modules/mod_status.so
<FcgiPmApp hello>
    Command $hello --app=hello --token=$ARG_SECRET
    Processes 3
    Env FCGI_PM_SECRET $ENV_SECRET
    ShutdownTimeout 3
</FcgiPmApp>
<FcgiPmApp odd.name_2-x>
    Command $hello --app=odd
    Processes 1
    ShutdownTimeout 3
</FcgiPmApp>
<FcgiPmApp tcp>
    Command $hello --app=tcp
    Processes 1
    Listen 127.0.0.1:$tcp_port
    ShutdownTimeout 3
</FcgiPmApp>
<Location /hello>
    FcgiPmPass hello
</Location>
<Location /odd>
    FcgiPmPass odd.name_2-x
</Location>
<Location /fcgi-pm-status>
    SetHandler fcgi-pm-status
    Require local
</Location>
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
EOT
my $W = qr/--app=hello\b/;
my $t0 = time;

ok($t->start, 'httpd started');
ok(wait_for(sub { $t->workers(match => $W) == 3 }, 20), '3 hello workers');
ok($t->wait_ok('/hello/', 20), 'hello answers');
ok($t->wait_ok('/odd/', 20), 'odd.name_2-x answers');
my $manager = $t->manager_pid;
ok($manager, "manager $manager");

#----------------------------------------------------------------------------
# Helpers
#----------------------------------------------------------------------------

my $json = JSON::PP->new->utf8;

sub status {
    my ($q) = @_;
    my $r = $t->get("/fcgi-pm-status$q", timeout => 10);
    die "status$q: $r->{status} $r->{error}\n" unless $r->{status} == 200;
    return $r;
}

sub status_json {
    return $json->decode(status('?format=json')->{body});
}

sub app_of {
    my ($j, $name) = @_;
    my ($app) = grep { $_->{name} eq $name } @{ $j->{apps} };
    return $app;
}

# Parse a Prometheus text exposition (0.0.4), checking its grammar.
# Returns ({ 'name{labels}' => value }, [errors]).
my $NAME  = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LNAME = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $LVAL  = qr/"(?:[^"\\\n]|\\[\\"n])*"/;
my $VALUE = qr/(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|NaN|[-+]Inf)/;
sub parse_prometheus {
    my ($text) = @_;
    my (%samples, @err, %typed, %seen_family, %closed);
    my $current = '';
    push @err, 'does not end with a newline' unless $text =~ /\n\z/;
    my $n = 0;
    for my $line (split /\n/, $text) {
        $n++;
        if ($line =~ /^#/) {
            if ($line =~ /^# HELP ($NAME) (.*)$/) {
                my $h = $2;
                push @err, "line $n: bad escape in HELP" if $h =~ /\\(?![\\n])/;
            }
            elsif ($line =~ /^# TYPE ($NAME) (counter|gauge|histogram|summary|untyped)$/) {
                push @err, "line $n: second TYPE for $1" if $typed{$1}++;
                push @err, "line $n: TYPE $1 after its samples" if $seen_family{$1};
            }
            elsif ($line =~ /^# (?:HELP|TYPE)/) {
                push @err, "line $n: bad HELP/TYPE line: $line";
            }
            next;
        }
        next if $line eq '';
        unless ($line =~ /^($NAME)(\{(?:$LNAME=$LVAL(?:,$LNAME=$LVAL)*,?)?\})? ($VALUE)(?: -?\d+)?$/) {
            push @err, "line $n: not a sample: $line";
            next;
        }
        my ($name, $labels, $value) = ($1, $2 // '', $3);
        (my $family = $name) =~ s/_(?:total|count|sum|bucket)$// unless $typed{$name};
        $family //= $name;
        if ($family ne $current) {
            push @err, "line $n: samples of $family are not contiguous" if $closed{$family};
            $closed{$current} = 1 if $current ne '';
            $current = $family;
        }
        $seen_family{$family} = 1;
        push @err, "line $n: duplicate sample $name$labels" if exists $samples{"$name$labels"};
        $samples{"$name$labels"} = $value;
    }
    return (\%samples, \@err);
}

sub prometheus {
    my ($s, $err) = parse_prometheus(status('?format=prometheus')->{body});
    die "prometheus grammar: @$err\n" if @$err;
    return $s;
}

# Status line of a raw request (the harness reads bodies, HEAD has none).
sub raw_status_line {
    my ($req) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port,
                                  Proto => 'tcp', Timeout => 5) or return '';
    print {$s} $req;
    my $l = <$s> // '';
    close $s;
    return $l;
}

sub auto {
    my %h;
    for (split /\n/, status('?auto')->{body}) {
        $h{$1} = $2 if /^([A-Za-z][A-Za-z0-9_.\-]*): ?(.*)$/;
    }
    return \%h;
}

#----------------------------------------------------------------------------
# Formats
#----------------------------------------------------------------------------

my @workers = $t->workers(match => $W);

subtest 'HTML' => sub {
    my $r = status('');
    like($r->{headers}{'content-type'}, qr{^text/html}, 'text/html');
    my $b = $r->{body};
    like($b, qr{<h2>App <code>hello</code></h2>}, 'a table for app hello');
    like($b, qr{<h2>App <code>odd\.name_2-x</code></h2>}, 'a table for odd.name_2-x');
    like($b, qr{<h2>App <code>tcp</code></h2>}, 'a table for tcp');
    like($b, qr{Manager: pid $manager \(running\)}, 'manager pid');
    like($b, qr{<td class="n">$_</td>}, "worker $_ listed") for @workers;
    like($b, qr{s&lt;&amp;&gt;'&quot;x/hello\.sock|s&lt;&amp;&gt;&#0?39;&quot;x/hello\.sock},
         'socket path escaped');
    unlike($b, qr{s<&>}, 'no raw <&> from the socket path');
    my $opens = () = $b =~ /<table/g;
    my $closes = () = $b =~ m{</table>}g;
    is($opens, $closes, "tables balanced ($opens)");
    like($b, qr{</html>\s*\z}, 'complete document');
};

my $j0;
subtest 'JSON' => sub {
    my $r = status('?format=json');
    like($r->{headers}{'content-type'}, qr{^application/json}, 'application/json');
    my $j = eval { $json->decode($r->{body}) };
    ok($j, 'parses with JSON::PP') or diag("$@\n$r->{body}");
    return unless $j;
    $j0 = $j;
    is($j->{manager}{pid}, $manager, 'manager pid');
    ok($j->{manager}{up}, 'manager up');
    is($j->{manager}{forks}, 1, '1 manager forked');
    is($j->{manager}{gracefuls}, 0, 'no graceful survived yet');
    is($j->{manager}{config_generation}, 1, 'configuration generation 1');
    cmp_ok(abs($j->{manager}{started} - $t0), '<', 30, 'manager start time is now');
    cmp_ok($j->{manager}{uptime_seconds}, '>=', 0, 'uptime');
    is(scalar @{ $j->{apps} }, 3, '3 apps');
    my $app = app_of($j, 'hello');
    ok($app, 'app hello') or return;
    is($app->{state}, 'running', 'state running');
    like($app->{socket}, qr{^(?:unix:)?\Q$sockdir/hello.sock\E$},
         'socket path, with its quote, decoded exactly');
    is($app->{configured}, 3, 'configured 3');
    is($app->{running}, 3, 'running 3');
    is($app->{ready}, 3, 'ready 3');
    is($app->{idle} + $app->{busy}, 3, 'idle + busy = 3');
    is_deeply([sort { $a <=> $b } map { $_->{pid} } @{ $app->{workers} }], \@workers,
              'worker pids are the manager\'s hello children');
    is($app->{in_flight}, 0, 'nothing in flight');
    is($app->{crashes}, 0, 'no crash');
    is($app->{last_exit}, undef, 'no exit yet');
    is($app->{listen_queue}, 0, 'listen queue known and empty (unix socket)');
    cmp_ok($app->{listen_backlog} // 0, '>', 0, 'listen backlog known');
    for my $w (@{ $app->{workers} }) {
        like($w->{state}, qr/^(idle|busy)$/, "worker $w->{pid} idle or busy");
        cmp_ok($w->{rss_bytes} // 0, '>', 0, "worker $w->{pid} RSS");
        ok(defined $w->{cpu_seconds} && $w->{cpu_seconds} >= 0, "worker $w->{pid} CPU time");
        ok($w->{started} >= $t0 - 1 && $w->{started} <= time + 1, "worker $w->{pid} start time");
        cmp_ok($w->{age_seconds}, '>=', 0, "worker $w->{pid} age");
    }
    my $odd_app = app_of($j, 'odd.name_2-x');
    ok($odd_app && $odd_app->{configured} == 1, 'odd.name_2-x, 1 configured');
    my $tcp = app_of($j, 'tcp');
    ok($tcp && $tcp->{configured} == 1 && $tcp->{state} eq 'running', 'tcp app running');
    note("tcp app socket: " . ($tcp ? $tcp->{socket} : '?'));
    if ($tcp && $tcp->{socket} =~ /^tcp:.*:(\d+)$/) {
        is($1, $tcp_port, 'tcp app socket names its port');
        is($tcp->{listen_queue}, 0, 'tcp listen queue known and empty');
    }
};

subtest 'Prometheus' => sub {
    my $r = status('?format=prometheus');
    like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'text/plain; version=0.0.4');
    my ($s, $err) = parse_prometheus($r->{body});
    is_deeply($err, [], 'every line matches the exposition grammar')
        or diag($r->{body});
    my @names = map { /^([^{]+)/ } keys %$s;
    is(scalar(grep { !/^fcgi_pm_/ } @names), 0, 'all metric names start with fcgi_pm_');
    is($s->{'fcgi_pm_manager_pid'}, $manager, 'fcgi_pm_manager_pid');
    is($s->{'fcgi_pm_manager_up'}, 1, 'fcgi_pm_manager_up');
    is($s->{'fcgi_pm_app_workers_configured{app="hello"}'}, 3, 'configured{app="hello"}');
    is($s->{'fcgi_pm_app_state{app="hello",state="running"}'}, 1, 'state running');
    is($s->{'fcgi_pm_app_state{app="hello",state="draining"}'}, 0, 'state draining 0');
    ok(defined $s->{'fcgi_pm_app_requests_total{app="odd.name_2-x"}'}, 'app label with . _ -');
    for my $pid (@workers) {
        my ($k) = grep { /^fcgi_pm_worker_state\{app="hello",pid="$pid",state="(idle|busy)"\}$/ } keys %$s;
        ok($k, "worker $pid has a state sample");
        cmp_ok($s->{"fcgi_pm_worker_resident_memory_bytes{app=\"hello\",pid=\"$pid\"}"} // 0, '>', 0,
               "worker $pid RSS");
    }
    like($r->{body}, qr/^# TYPE fcgi_pm_app_requests_total counter$/m, 'requests is a counter');
};

subtest '?auto' => sub {
    my $r = status('?auto');
    like($r->{headers}{'content-type'}, qr{^text/plain}, 'text/plain');
    my @bad = grep { !/^[A-Za-z][A-Za-z0-9_.\-]*: ?\S?.*$/ } split /\n/, $r->{body};
    is_deeply(\@bad, [], 'every line is "Key: value"');
    my $h = auto();
    is($h->{ManagerPid}, $manager, 'ManagerPid');
    is($h->{Apps}, 3, 'Apps: 3');
    is($h->{'App.hello.Configured'}, 3, 'App.hello.Configured: 3');
    is($h->{'App.hello.State'}, 'running', 'App.hello.State: running');
    is($h->{'App.odd.name_2-x.Configured'}, 1, 'App.odd.name_2-x.Configured: 1');
    is(scalar(() = ($h->{'App.hello.Workers'} // '') =~ /\d+:(idle|busy)/g), 3,
       'App.hello.Workers lists 3 workers');
    is($t->get('/fcgi-pm-status?format=auto')->{status}, 200, '?format=auto too');
};

subtest 'bad requests' => sub {
    is($t->get('/fcgi-pm-status?format=bogus')->{status}, 400, 'unknown format: 400');
    is($t->post('/fcgi-pm-status', 'x')->{status}, 405, 'POST: 405');
    like(raw_status_line("HEAD /fcgi-pm-status?format=json HTTP/1.0\r\n\r\n"),
         qr{^HTTP/1\.1 200 }, 'HEAD: 200');
};

subtest 'no secrets' => sub {
    for my $q ('', '?format=json', '?format=prometheus', '?auto') {
        my $b = status($q)->{body};
        unlike($b, qr/\Q$ENV_SECRET\E/, "no Env value in status$q");
        unlike($b, qr/\Q$ARG_SECRET\E/, "no Command argument in status$q");
        unlike($b, qr/FCGI_PM_SECRET/, "no Env name in status$q");
    }
};

#----------------------------------------------------------------------------
# Numbers move
#----------------------------------------------------------------------------

subtest 'requests counter' => sub {
    my $before = app_of(status_json(), 'hello')->{requests};
    my $odd_before = app_of(status_json(), 'odd.name_2-x')->{requests};
    my $N = 7;
    my $ok = 0;
    for (1 .. $N) { $ok++ if $t->get('/hello/')->{status} == 200 }
    is($ok, $N, "$N requests answered 200");
    # The counter is updated when the request's pool is cleaned up, just
    # after the response is sent: allow a moment, then it must be exact.
    my $got = wait_for(sub {
        my $v = app_of(status_json(), 'hello')->{requests};
        $v >= $before + $N ? $v : undef
    }, 5, 0.05);
    sleep 0.3;
    my $j = status_json();
    my $app = app_of($j, 'hello');
    is($app->{requests}, $before + $N, "JSON requests grew by exactly $N ($before -> $app->{requests})");
    is($app->{in_flight}, 0, 'in_flight back to 0');
    is(app_of($j, 'odd.name_2-x')->{requests}, $odd_before, 'other app not counted');
    is(prometheus()->{'fcgi_pm_app_requests_total{app="hello"}'}, $before + $N,
       'Prometheus fcgi_pm_app_requests_total agrees');
    is(auto()->{'App.hello.Requests'}, $before + $N, '?auto App.hello.Requests agrees');
    is($j->{totals}{requests}, $app->{requests} + app_of($j, 'odd.name_2-x')->{requests}
                               + app_of($j, 'tcp')->{requests}, 'totals.requests is the sum');
};

subtest 'busy workers' => sub {
    my $load = $t->load_start(clients => 2, min_requests => 2,
                              path => '/hello/?sleep=2500', expect => qr/APP=hello-c/);
    my $seen;
    my $t1 = time;
    my $busy = wait_for(sub {
        my $app = app_of(status_json(), 'hello');
        $seen = $app;
        $app->{busy} >= 2 ? $app : undef
    }, 2, 0.05);
    ok($busy, 'JSON: busy >= 2 while 2 slow requests run') or diag(explain($seen));
    if ($busy) {
        # in_flight is copied a moment before the workers are looked at:
        # read it again now that both requests are known to be running.
        my $now = app_of(status_json(), 'hello');
        cmp_ok($now->{in_flight}, '>=', 2, 'in_flight >= 2') if time - $t1 < 2;
        cmp_ok($busy->{idle}, '<=', 1, 'idle <= 1');
        my @b = grep { $_->{state} eq 'busy' } @{ $busy->{workers} };
        cmp_ok(scalar @b, '>=', 2, 'two workers in state busy');
        my $p = prometheus();
        cmp_ok($p->{'fcgi_pm_app_workers{app="hello",state="busy"}'}, '>=', 2,
               'Prometheus workers{state="busy"} >= 2') if time - $t1 < 2;
        my $h = auto();
        cmp_ok($h->{'App.hello.Busy'}, '>=', 2, '?auto App.hello.Busy >= 2') if time - $t1 < 2;
    }
    my $s = $t->load_finish($load);
    is($s->{ok}, 2, '2 slow requests ok') or diag(join("\n", @{ $s->{errors} }));
    ok(wait_for(sub { my $app = app_of(status_json(), 'hello'); $app->{idle} == 3 && $app->{busy} == 0 }, 5),
       'idle 3, busy 0 afterwards');
};

subtest 'listen queue' => sub {
    my $load = $t->load_start(clients => 5, min_requests => 5,
                              path => '/hello/?sleep=2500', expect => qr/APP=hello-c/);
    my $seen;
    my $q = wait_for(sub {
        my $app = app_of(status_json(), 'hello');
        $seen = $app;
        ($app->{listen_queue} // 0) >= 1 ? $app : undef
    }, 2.5, 0.05);
    ok($q, 'listen queue >= 1 while 5 slow requests wait for 3 workers')
        or diag(explain($seen));
    # Busy/idle is what the manager last saw (it looks every 500 ms).
    ok(wait_for(sub { (app_of(status_json(), 'hello')->{busy} // 0) == 3 }, 2, 0.05),
       'all 3 workers busy') if $q;
    my $s = $t->load_finish($load);
    is($s->{ok}, 5, '5 slow requests ok') or diag(join("\n", @{ $s->{errors} }));
    ok(wait_for(sub { (app_of(status_json(), 'hello')->{listen_queue} // -1) == 0 }, 5),
       'queue empty afterwards');
};

subtest 'crash: decoded last exit' => sub {
    my $j = status_json();
    my $app = app_of($j, 'hello');
    my $crashes = $app->{crashes};
    my $restarts = $app->{restarts};
    my $victim = $app->{workers}[0]{pid};
    my $t1 = time;
    ok(kill('KILL', $victim), "kill -9 worker $victim");
    my $after = wait_for(sub {
        my $x = app_of(status_json(), 'hello');
        ($x->{crashes} > $crashes && $x->{running} == 3
         && !(grep { $_->{pid} == $victim } @{ $x->{workers} })) ? $x : undef
    }, 10);
    ok($after, 'crash counted, worker replaced') or return;
    is($after->{crashes}, $crashes + 1, 'crashes + 1');
    is($after->{restarts}, $restarts + 1, 'restarts + 1');
    ok($after->{last_exit}, 'last exit known') or return;
    is($after->{last_exit}{signal}, 9, 'last exit: signal 9');
    is($after->{last_exit}{code}, undef, 'no exit code');
    like($after->{last_exit}{description}, qr/signal 9 \(SIGKILL\)/, 'described');
    ok($after->{last_exit}{time} >= $t1 - 1 && $after->{last_exit}{time} <= time + 1, 'last exit time');
    my $p = prometheus();
    is($p->{'fcgi_pm_app_last_exit_signal{app="hello"}'}, 9, 'Prometheus last_exit_signal 9');
    is($p->{'fcgi_pm_app_crashes_total{app="hello"}'}, $crashes + 1, 'Prometheus crashes_total');
    like(status('')->{body}, qr/exited on signal 9 \(SIGKILL\)/, 'HTML shows the exit');
    like(auto()->{'App.hello.LastExit'} // '', qr/signal 9/, '?auto LastExit');
};

#----------------------------------------------------------------------------
# The table of fields: every field documented and in every format
#----------------------------------------------------------------------------

# ?fields -> list of { scope, type, unit, json, auto, prom, prom_label,
# prom_extra, html, brief, old_json, old_auto, old_prom, help }; '-' is
# undef.
my @COLS = qw(scope type unit json auto prom prom_label prom_extra html brief
              old_json old_auto old_prom help);
sub field_table {
    my ($body) = @_;
    my (@f, @bad);
    for my $line (split /\n/, $body) {
        next if $line =~ /^#/;
        my @v = split /\t/, $line, -1;
        if (@v != @COLS) { push @bad, $line; next }
        my %h;
        @h{@COLS} = map { $_ eq '-' ? undef : $_ } @v;
        push @f, \%h;
    }
    return (\@f, \@bad);
}

# The value at a JSON path ("manager.pid", "last_exit.code") of OBJ:
# (exists, value).
sub json_at {
    my ($obj, $path) = @_;
    my @k = split /\./, $path;
    my $last = pop @k;
    for (@k) {
        return (1, undef) if exists $obj->{$_} && !defined $obj->{$_};  # a null group
        return (0) unless ref $obj->{$_} eq 'HASH';
        $obj = $obj->{$_};
    }
    return (exists $obj->{$last}, $obj->{$last});
}

# Does a sample of metric NAME with all of LABELS ("k=\"v\"" strings) exist?
sub has_sample {
    my ($samples, $name, @labels) = @_;
    for my $k (keys %$samples) {
        next unless $k =~ /^\Q$name\E(?:\{(.*)\})?$/;
        my %have = map { $_ => 1 } split /,(?=[a-zA-Z_]+=")/, $1 // '';
        return 1 unless grep { !$have{$_} } @labels;
    }
    return 0;
}

subtest 'fields: one table, documented, in every format' => sub {
    my $r = status('?fields');
    like($r->{headers}{'content-type'}, qr{^text/plain}, '?fields is text/plain');
    my ($fields, $bad) = field_table($r->{body});
    is_deeply($bad, [], 'every ?fields line has ' . scalar(@COLS) . ' columns');
    cmp_ok(scalar @$fields, '>=', 40, scalar(@$fields) . ' fields');
    my %seen;
    for my $f (@$fields) {
        like($f->{scope}, qr/^(server|app|worker)$/, "$f->{json}: scope");
        ok(!$seen{"$f->{scope} json $f->{json}"}++, "$f->{scope} $f->{json}: JSON name unique");
        ok(!$seen{"$f->{scope} auto $f->{auto}"}++, "$f->{scope} $f->{auto}: ?auto name unique")
            if $f->{auto};
        my $p = join '|', grep { defined } @$f{qw(prom prom_label prom_extra)};
        ok(!$seen{"prom $p"}++, "$p: Prometheus name unique") if $f->{prom};
    }

    # docs/STATUS.md: a row in the scope's table names the field in each
    # format, and its former names are listed.
    my $doc_path = "$FindBin::Bin/../docs/STATUS.md";
    open my $fh, '<', $doc_path or die "$doc_path: $!";
    my $doc = do { local $/; <$fh> };
    close $fh;
    my %section;
    for my $part (split /^### /m, $doc) {
        $section{$1} = $part if $part =~ /\A[^\n]*\(scope `(\w+)`\)/;
    }
    is_deeply([sort keys %section], [qw(app server worker)], 'docs/STATUS.md has a table per scope');
    for my $f (@$fields) {
        my @want = ("`$f->{json}`");
        push @want, "`$f->{auto}`" if $f->{auto};
        push @want, "`$f->{prom}" if $f->{prom};
        push @want, "`$f->{prom_label}`" if $f->{prom_label};
        push @want, "| $f->{html}" if $f->{html};
        my @rows = grep { my $l = $_; !grep { index($l, $_) < 0 } @want }
                   grep { /^\|/ } split /\n/, $section{$f->{scope}} // '';
        is(scalar @rows, 1, "docs/STATUS.md: $f->{scope} field $f->{json} has its row")
            or diag("looked for a row with: @want");
        for my $old (grep { defined } @$f{qw(old_json old_prom)}) {
            (my $o = $old) =~ s/^\w+\.//;
            like($doc, qr/`(?:\w+\.)?\Q$o\E`/, "docs/STATUS.md: former name $old");
        }
    }

    # Every format shows every field (a field JSON gives as null is left
    # out of ?auto and Prometheus), and a former name has the same value.
    my $j = status_json();
    my $app = app_of($j, 'hello');
    my @wk = @{ $app->{workers} };
    my $a = auto();
    my $p = prometheus();
    my $html = status('')->{body};
    my %at = (server => [[$j, '', '', []]],
              app => [[$app, 'App.hello.', '', ['app="hello"']]],
              worker => [map { [$_, "Worker.$_->{pid}.", '', ['app="hello"', "pid=\"$_->{pid}\""]] } @wk]);
    ok(scalar @wk, 'hello has workers to look at');
    for my $f (@$fields) {
        for my $where (@{ $at{$f->{scope}} }) {
            my ($obj, $prefix, undef, $labels) = @$where;
            my $what = "$f->{scope} $f->{json}" . ($f->{scope} eq 'worker' ? " of $obj->{pid}" : '');
            my ($exists, $v) = json_at($obj, $f->{json});
            ok($exists, "JSON: $what");
            if ($f->{old_json}) {
                my ($oe, $ov) = json_at($obj, $f->{old_json});
                ok($oe && ($ov // 'null') eq ($v // 'null'), "JSON: former $f->{old_json} = $f->{json}");
            }
            next if $f->{type} eq 'key';
            next unless defined $v;
            ok(exists $a->{"$prefix$f->{auto}"}, "?auto: $prefix$f->{auto}") if $f->{auto};
            ok(exists $a->{"$prefix$f->{old_auto}"}, "?auto: former $prefix$f->{old_auto}")
                if $f->{old_auto};
            if ($f->{prom}) {
                my @l = @$labels;
                push @l, $f->{prom_extra} if $f->{prom_extra};
                if ($f->{prom_label}) {
                    my $lv = ref $v ? '' : $v;
                    $lv =~ s/([\\"])/\\$1/g;
                    $lv =~ s/\n/\\n/g;
                    push @l, "$f->{prom_label}=\"$lv\"";
                }
                ok(has_sample($p, $f->{prom}, @l), "Prometheus: $f->{prom}\{@l\}");
                ok(has_sample($p, $f->{old_prom}, @l), "Prometheus: former $f->{old_prom}")
                    if $f->{old_prom};
            }
        }
        like($html, qr{<th>\Q$f->{html}\E</th>}, "HTML: heading $f->{html}") if $f->{html};
    }

    # The mod_status section: every manager figure in ?auto, the brief app
    # fields in its table.
    my %ms = map { /^([^:]+): (.*)$/ ? ($1 => $2) : () }
             split /\n/, $t->get('/server-status?auto')->{body};
    my $ms_html = $t->get('/server-status')->{body};
    for my $f (@$fields) {
        if ($f->{scope} eq 'server' && $f->{auto}) {
            ok(exists $ms{"FcgiPm$f->{auto}"}, "mod_status ?auto: FcgiPm$f->{auto}");
        }
        if ($f->{scope} eq 'app' && $f->{brief}) {
            like($ms_html, qr{<th>\Q$f->{html}\E</th>}, "mod_status table: $f->{html}");
        }
    }
};

subtest 'graceful' => sub {
    my $j = status_json();
    my $req = app_of($j, 'hello')->{requests};
    my $appgen = app_of($j, 'hello')->{roll};
    ok($t->graceful, 'graceful');
    my $after = wait_for(sub {
        my $x = status_json();
        my $app = app_of($x, 'hello');
        $x->{manager}{config_generation} == $j->{manager}{config_generation} + 1
            && $app->{running} == 3 && $app->{ready} == 3 ? $x : undef
    }, 20);
    ok($after, 'status answers after the graceful, 3 workers ready') or return;
    is($after->{manager}{pid}, $manager, 'same manager pid');
    is($after->{manager}{config_generation}, $j->{manager}{config_generation} + 1,
       'config_generation + 1');
    is($after->{manager}{generation}, $after->{manager}{config_generation},
       'former name "generation" still given');
    is(auto()->{ConfigGeneration}, $after->{manager}{config_generation}, '?auto ConfigGeneration');
    is($after->{manager}{gracefuls}, 1, '1 graceful survived');
    is(prometheus()->{fcgi_pm_gracefuls_total}, 1, 'Prometheus fcgi_pm_gracefuls_total 1');
    is(auto()->{Gracefuls}, 1, '?auto Gracefuls: 1');
    is($after->{manager}{reloads}, $j->{manager}{reloads} + 1, 'reloads + 1');
    cmp_ok(app_of($after, 'hello')->{requests}, '>=', $req, 'requests counter kept');
    cmp_ok(app_of($after, 'hello')->{roll}, '>=', $appgen, 'app roll not lower');
};

#----------------------------------------------------------------------------
# mod_status
#----------------------------------------------------------------------------

subtest 'mod_status section' => sub {
    my $r = $t->get('/server-status');
    is($r->{status}, 200, '/server-status');
    like($r->{body}, qr{<h2>mod_fcgi_pm</h2>}, 'mod_fcgi_pm section');
    like($r->{body}, qr{Manager pid $manager}, 'manager pid');
    like($r->{body}, qr{<tr><td>hello</td><td>running</td>}, 'hello row');
    like($r->{body}, qr{<tr><td>odd\.name_2-x</td>}, 'odd.name_2-x row');
    $r = $t->get('/server-status?auto');
    is($r->{status}, 200, '/server-status?auto');
    my %h = map { /^([^:]+): (.*)$/ ? ($1 => $2) : () } split /\n/, $r->{body};
    is($h{FcgiPmManagerPid}, $manager, 'FcgiPmManagerPid');
    is($h{FcgiPmApps}, 3, 'FcgiPmApps: 3');
    like($h{FcgiPmWorkers} // '', qr/^\d+$/, 'FcgiPmWorkers');
    cmp_ok($h{FcgiPmWorkers} // 0, '>=', 5, 'FcgiPmWorkers >= 5');
    like($h{FcgiPmRequests} // '', qr/^\d+$/, 'FcgiPmRequests');
    like($h{FcgiPmBusyWorkers} // '', qr/^\d+$/, 'FcgiPmBusyWorkers');
    unlike($r->{body}, qr/</, 'no HTML in ?auto');
};

note(sprintf('10-status.t took %.1f s', time - $t0));
done_testing;
