# SPDX-License-Identifier: Apache-2.0
# app.psgi - PSGI app for the mod_fcgi_pm test suite, run by
# "plackup -s FCGI -E deployment app.psgi" on the listen socket it inherits
# as fd 0 (Plack::Handler::FCGI uses STDIN when it is a socket; --listen and
# --nproc are then not used: one process per worker).
# Answer (text/plain): APP=plack PID=... REQS=...; "sleep=MS" sleeps first.
use strict;
use warnings;
use Time::HiRes ();

my $count = 0;
sub {
    my ($env) = @_;
    $count++;
    my $qs = $env->{QUERY_STRING} // '';
    if ($qs =~ /(?:^|&)sleep=(\d+)/) {
        my $until = Time::HiRes::time() + $1 / 1000;
        while ((my $left = $until - Time::HiRes::time()) > 0) {
            Time::HiRes::sleep($left);
        }
    }
    return [200, ['Content-Type' => 'text/plain', 'X-Worker-Pid' => $$],
            ["APP=plack\nPID=$$\nREQS=$count\nQUERY_STRING=$qs\n"]];
};
