# SPDX-License-Identifier: Apache-2.0
package FcgiPmTest::HTTP;

# The raw HTTP client of the test harness (FcgiPmTest) and bench/run: one
# request per connection to 127.0.0.1, bounded in time, that reports what
# a client saw (status, headers, body, timings) and turns every client-side
# failure (connect, timeout, truncated answer) into status 599 with an
# error text.  No library client: the tests look at exactly what came back
# (chunked or not, Content-Length right or not).  Also a free-port finder
# and the parser of the "KEY=VALUE" bodies of the test apps.

use strict;
use warnings;

use Carp qw(croak);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

our @EXPORT_OK = qw(http_request free_port tcp_port_open kv);

# free_port() -> a 127.0.0.1 TCP port that was free a moment ago.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or croak "cannot bind a free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

# tcp_port_open($port) -> 1 if something accepts on 127.0.0.1:$port.
sub tcp_port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2);
    return 0 unless $s;
    close $s;
    return 1;
}

# http_request(port => P, method => 'GET', path => '/x', headers => {..},
#              body => $bytes, timeout => 30, trace => 0,
#              http_version => '1.1')
# -> { status, reason, headers => {lc name => value}, body, elapsed (ms),
#      first_byte (ms), error, http_status (what the server said),
#      raw_length, reads => [[ms, total_bytes], ...] (trace) }
# status 599 = client-side failure (connect, timeout, truncated response).
# One connection per request: HTTP/1.1 with "Connection: close", or
# HTTP/1.0 (no keep-alive by default) with http_version => '1.0'.
sub http_request {
    my (%a) = @_;
    my $port    = $a{port} or croak 'port required';
    my $timeout = $a{timeout} // 30;
    my $t0 = time;
    my $deadline = $t0 + $timeout;
    my %res = (status => 599, headers => {}, body => '', error => '');
    my $ms = sub { sprintf('%.1f', (time - $t0) * 1000) + 0 };

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                     Proto => 'tcp', Timeout => $timeout);
    unless ($sock) {
        $res{error} = "connect: $!";
        $res{elapsed} = $ms->();
        return \%res;
    }
    binmode $sock;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);

    _send_all($sock, $sel, _request_text(%a), $deadline, \%res);
    # Even if sending failed, read what the server answered (it may have
    # rejected the request early).
    my ($raw, $eof, $reads) = _read_to_eof($sock, $sel, $deadline, \%res, $ms, $a{trace});
    close $sock;
    $res{elapsed} = $ms->();
    $res{reads} = $reads if $a{trace};
    $res{raw_length} = length $raw;
    _parse_response($raw, $eof, \%res);
    return \%res;
}

# The request's bytes: request line, Host, Connection (HTTP/1.1), the
# caller's headers in a stable order, Content-Length and the body.
sub _request_text {
    my (%a) = @_;
    my $method  = $a{method} || 'GET';
    my $path    = $a{path} // '/';
    my $version = $a{http_version} // '1.1';
    my $body    = $a{body};
    my $h = $a{headers} || {};
    # The caller's Host (a virtual host's name), else the address.
    my $req = "$method $path HTTP/$version\r\n";
    $req .= "Host: 127.0.0.1:$a{port}\r\n" unless grep { lc eq 'host' } keys %$h;
    $req .= "Connection: close\r\n" if $version ne '1.0';
    $req .= "$_: $h->{$_}\r\n" for sort keys %$h;
    $req .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
    $req .= "\r\n";
    $req .= $body if defined $body;
    return $req;
}

# Write all of $req to the non-blocking socket before $deadline; a failure
# goes to $res->{error}.
sub _send_all {
    my ($sock, $sel, $req, $deadline, $res) = @_;
    my $off = 0;
    my $len = length $req;
    my $wait = 0;                 # a fresh socket takes a small request at once
    while ($off < $len) {
        my $left = $deadline - time;
        if ($left <= 0) { $res->{error} = 'timeout while sending'; return }
        next if $wait++ && !$sel->can_write($left);
        my $n = syswrite($sock, $req, 65536, $off);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $res->{error} = "send: $!";
            return;
        }
        $off += $n;
    }
}

# Read until the server closes or $deadline: -> ($raw, $eof, \@reads).
# Sets $res->{first_byte}, and $res->{error} unless already set.
sub _read_to_eof {
    my ($sock, $sel, $deadline, $res, $ms, $trace) = @_;
    my $raw = '';
    my @reads;
    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) { $res->{error} ||= 'timeout while reading'; last }
        next unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 262144);
        if (!defined $n) {
            next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
            $res->{error} ||= "recv: $!";
            last;
        }
        return ($raw, 1, \@reads) if $n == 0;
        $res->{first_byte} //= $ms->();
        $raw .= $buf;
        push @reads, [$ms->(), length $raw] if $trace;
    }
    return ($raw, 0, \@reads);
}

# Fill status, reason, headers and body of $res from the raw answer.
sub _parse_response {
    my ($raw, $eof, $res) = @_;
    my $hend = index($raw, "\r\n\r\n");
    if ($hend < 0) {
        $res->{error} ||= 'no complete response header (' . length($raw) . ' bytes)';
        $res->{status} = 599;
        return;
    }
    my $head = substr($raw, 0, $hend);
    my $rbody = substr($raw, $hend + 4);
    my @hl = split /\r\n/, $head;
    my $sl = shift @hl;
    unless ($sl =~ m{^HTTP/\d\.\d (\d{3})\s*(.*)$}) {
        $res->{error} ||= "bad status line: $sl";
        return;
    }
    my ($status, $reason) = ($1, $2);
    for (@hl) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $res->{headers}{$k} = exists $res->{headers}{$k} ? "$res->{headers}{$k}, $v" : $v;
    }
    if (($res->{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
        my ($decoded, $complete) = _dechunk($rbody);
        $rbody = $decoded;
        $res->{error} ||= 'truncated chunked body' unless $complete;
    } elsif (defined $res->{headers}{'content-length'}
             && length($rbody) != $res->{headers}{'content-length'}) {
        $res->{error} ||= 'body length ' . length($rbody) . ' != Content-Length '
                          . $res->{headers}{'content-length'};
    }
    $res->{body} = $rbody;
    $res->{reason} = $reason;
    # A truncated or timed-out response is a failure whatever its status.
    $res->{status} = $res->{error} && !$eof || $res->{error} =~ /truncated|body length/ ? 599 : $status;
    $res->{http_status} = $status;
}

# _dechunk($chunked_body) -> ($decoded, $complete)
sub _dechunk {
    my ($in) = @_;
    my $out = '';
    my $pos = 0;
    while (1) {
        my $e = index($in, "\r\n", $pos);
        return ($out, 0) if $e < 0;
        my $line = substr($in, $pos, $e - $pos);
        $line =~ s/;.*//;
        return ($out, 0) unless $line =~ /^\s*([0-9a-fA-F]+)\s*$/;
        my $size = hex $1;
        $pos = $e + 2;
        return ($out, 1) if $size == 0;
        return ($out, 0) if $pos + $size > length $in;
        $out .= substr($in, $pos, $size);
        $pos += $size + 2;
    }
}

# kv($body) -> {KEY => VALUE} of the "KEY=VALUE" lines of a hello-style body.
sub kv {
    my ($body) = @_;
    my %h;
    for (split /\n/, $body // '') {
        $h{$1} = $2 if /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
    }
    return \%h;
}

1;
