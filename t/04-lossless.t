#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# 04-lossless.t - gracefuls under load lose nothing: 16 concurrent clients,
# at least 2000 requests, 5% of them "?sleep=1000" (in flight across the
# reloads), 5 gracefuls spaced ~1.5 s: zero failed requests, zero non-2xx,
# every answer from the app.  Once per MPM: event, worker, prefork
# (FCGI_PM_MPMS="event prefork" to choose).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use FcgiPmTest qw(wait_for pid_alive app_conf);

my @mpms = split ' ', ($ENV{FCGI_PM_MPMS} || 'event worker prefork');
my $CLIENTS    = 16;
my $REQUESTS   = 2000;
my $GRACEFULS  = 5;

for my $mpm (@mpms) {
    subtest "mpm $mpm" => sub { run_mpm($mpm) };
}
subtest 'php-cgi and Perl FCGI apps (event)' => sub {
    plan skip_all => 'no /usr/bin/php-cgi' unless -x '/usr/bin/php-cgi';
    run_script_apps();
} unless $ENV{FCGI_PM_MPMS};

sub run_mpm {
    my ($mpm) = @_;
    my $t = FcgiPmTest->new(mpm => $mpm);
    my $hello = $t->app('hello');
    $t->write_conf(app_conf('hello', "$hello --app=hello", 'Processes 8', 'ShutdownTimeout 10'));
    ok($t->start, "httpd ($mpm) started");
    ok(wait_for(sub { $t->workers(match => qr/--app=hello\b/) == 8 }, 20), '8 workers');
    ok($t->wait_ok('/hello/', 20), 'app answers');
    my $manager = $t->manager_pid;
    ok($manager, "manager $manager");
    my @first = $t->workers(match => qr/--app=hello\b/);
    my $gen0 = $t->generations;

    my $t0 = time;
    my $load = $t->load_start(
        clients       => $CLIENTS,
        min_requests  => $REQUESTS,
        until_stopped => 1,
        max_seconds   => 150,
        timeout       => 60,
        expect        => qr/^APP=hello-c$/m,
        path          => sub {
            my ($c, $i) = @_;
            # 1 request in 20 sleeps 1 s; offsets spread them over clients.
            return ($i + $c) % 20 == 0 ? "/hello/s?sleep=1000&c=$c&i=$i" : "/hello/f?c=$c&i=$i";
        },
    );
    sleep 1.5;
    my @graceful_at;
    for my $g (1 .. $GRACEFULS) {
        push @graceful_at, time;
        my $ok = eval { $t->graceful };
        ok($ok, "graceful $g") or diag($@);
        sleep 1.5;
    }
    my $s = $t->load_finish($load);
    my $dur = time - $t0;
    note(sprintf('%s: %.1f s; gracefuls at %s s; %s', $mpm, $dur,
                 join(', ', map { sprintf '%.1f', $_ - $t0 } @graceful_at), FcgiPmTest::load_summary_text($s)));

    cmp_ok($s->{total}, '>=', $REQUESTS, "at least $REQUESTS requests ($s->{total})");
    is($s->{failed}, 0, 'zero failed requests (connection errors, timeouts, truncation)');
    is($s->{non2xx}, 0, 'zero non-2xx answers');
    is($s->{bad_body}, 0, 'every 2xx answer came from the app');
    unlike($t->log_text, qr/ShutdownTimeout\); killing it/,
           'every retired worker left by itself, none was killed');
    diag(join "\n", "$mpm: " . FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
        if $s->{failed} || $s->{non2xx} || $s->{bad_body};

    # Requests that slept were in flight during the reloads.
    my $sleepers = grep { $_->[4] =~ /sleep=1000/ } @{ $s->{records} };
    cmp_ok($sleepers, '>=', $REQUESTS / 20 * 0.9, "about 5% slow requests ($sleepers)");

    # Requests (slow ones included) were in flight at each graceful.
    for my $g (0 .. $#graceful_at) {
        my $at = $graceful_at[$g];
        my @in = grep { $_->[0] <= $at && $_->[0] + $_->[1] / 1000 >= $at } @{ $s->{records} };
        my $slow = grep { $_->[4] =~ /sleep=1000/ } @in;
        cmp_ok(scalar @in, '>=', 1, sprintf('graceful %d: %d requests in flight (%d slow)', $g + 1, scalar @in, $slow));
    }

    # The load actually spanned the gracefuls and the workers really were
    # replaced (otherwise this test would prove nothing).
    is($t->generations, $gen0 + $GRACEFULS, "$GRACEFULS new generations logged");
    is($t->manager_pid, $manager, 'manager unchanged');
    my %first = map { $_ => 1 } @first;
    ok(wait_for(sub { my @w = $t->workers(match => qr/--app=hello\b/);
                      @w == 8 && !(grep { $first{$_} } @w) }, 30),
       'workers of the first generation all replaced');

    ok($t->stop, 'httpd stopped');
    $t->cleanup;
}

# php-cgi and a Perl FCGI script are real-world workers with their own
# signal handling: 8 clients, >= 800 requests over both apps, 5% sleeping
# 500 ms, 3 gracefuls: nothing lost.
sub run_script_apps {
    my $t = FcgiPmTest->new(mpm => 'event');
    my $root = $t->root;
    my $pl = $t->app('hello.pl');
    $t->docfile('hello.php');
    my $docroot = $t->docroot;
    $t->write_conf(<<"EOT");
<FcgiPmApp php>
    Command /usr/bin/php-cgi -d fcgipm.tag=$root
    Processes 4
    Env PHP_FCGI_MAX_REQUESTS 100000
    ShutdownTimeout 10
</FcgiPmApp>
<Directory "$docroot">
    <Files "*.php">
        FcgiPmPass php
    </Files>
</Directory>
<FcgiPmApp perl>
    Command $pl
    Processes 4
    ShutdownTimeout 10
</FcgiPmApp>
<Location /perl>
    FcgiPmPass perl
</Location>
EOT
    ok($t->start, 'httpd started');
    ok($t->wait_ok('/hello.php', 20) && $t->wait_ok('/perl/', 20), 'php and perl answer');
    my @first = $t->workers;
    my $t0 = time;
    my $load = $t->load_start(
        clients => 8, min_requests => 800, until_stopped => 1, max_seconds => 120, timeout => 60,
        expect => qr/^APP=hello-(?:php|pl)$/m,
        path => sub {
            my ($c, $i) = @_;
            my $sleep = ($i + $c) % 20 == 0 ? '&sleep=500' : '';
            return ($i % 2) ? "/hello.php?c=$c&i=$i$sleep" : "/perl/p?c=$c&i=$i$sleep";
        },
    );
    sleep 1.5;
    for my $g (1 .. 3) {
        ok(eval { $t->graceful }, "graceful $g") or diag($@);
        sleep 1.5;
    }
    my $s = $t->load_finish($load);
    note(sprintf('php+perl: %.1f s; %s', time - $t0, FcgiPmTest::load_summary_text($s)));
    cmp_ok($s->{total}, '>=', 800, "at least 800 requests ($s->{total})");
    is($s->{failed}, 0, 'zero failed requests');
    is($s->{non2xx}, 0, 'zero non-2xx answers');
    is($s->{bad_body}, 0, 'every answer from the apps');
    unlike($t->log_text, qr/ShutdownTimeout\); killing it/,
           'every retired worker left by itself, none was killed');
    diag(join "\n", FcgiPmTest::load_summary_text($s), @{ $s->{errors} })
        if $s->{failed} || $s->{non2xx} || $s->{bad_body};
    my %first = map { $_ => 1 } @first;
    ok(wait_for(sub { my @w = $t->workers; @w == 8 && !(grep { $first{$_} } @w) }, 40),
       'all first-generation php and perl workers replaced')
        or diag('workers: ' . join(' ', $t->workers) . "; first: @first");
    ok($t->stop, 'httpd stopped');
    $t->cleanup;
}

done_testing;
