-- SPDX-License-Identifier: Apache-2.0
-- smartcfg's Wireshark dissector: what a person debugging SmartConfig provisioning wants marked.
--   tshark -X lua_script:extras/wireshark/smartcfg.lua -r capture.pcap
-- (or copy it into Wireshark's Lua plugin folder; `cmake --install` does).
--
-- * ESP-TOUCH v1 on the air (802.11, with or without radiotap) and on a wire (Ethernet, loopback):
--   every datagram's ESP-TOUCH length L, what it is (guide / data nibble / index), and on the
--   frame that completes a CRC-valid triplet the byte index and its value. On 802.11 the
--   frames are usually encrypted: like the device, the dissector learns each stream's overhead
--   (frame length - L) from a guide quartet, per transmitter, BSSID and direction.
-- * the ESP-TOUCH acknowledgement on UDP 18266 (11 bytes: total length byte, MAC, IPv4);
-- * Tencent's UDP 8266 JSON (token request, identity reply, errors, log query) as tc8266.*
--   fields, the bind token masked: a capture shown on a screen must not hand it out;
-- * the provisioning-log service on UDP 9876.
-- Protocol facts: docs/protocol/esptouch-v1.md and docs/protocol/tencent.md.

local GUIDE = { [515] = true, [514] = true, [513] = true, [512] = true }
local EXTRA = 40                 -- added to every data and index symbol
local MAX_OVERHEAD = 160         -- guide calibration sanity bound (802.11 + cipher + FCS)

---------------------------------------------------------------------------------------------
-- ESP-TOUCH datagrams (a postdissector: it looks at lengths, whatever carried them)
local et = Proto("esptouch", "ESP-TOUCH v1 (SmartConfig)")
local f_len    = ProtoField.uint16("esptouch.length", "ESP-TOUCH length (UDP payload)")
local f_ovh    = ProtoField.uint16("esptouch.overhead", "Stream overhead (802.11 frame length without FCS - ESP-TOUCH length)")
local f_kind   = ProtoField.string("esptouch.kind", "Symbol")
local f_guide  = ProtoField.bool("esptouch.guide", "Guide datagram")
local f_nib    = ProtoField.uint8("esptouch.nibbles", "CRC nibble | data nibble", base.HEX)
local f_index  = ProtoField.uint8("esptouch.index", "Datum index")
local f_value  = ProtoField.uint8("esptouch.value", "Decoded byte", base.HEX)
local f_stream = ProtoField.string("esptouch.stream", "Stream")
et.fields = { f_len, f_ovh, f_kind, f_guide, f_nib, f_index, f_value, f_stream }

local fe = {}
for _, n in ipairs({ "frame.len", "radiotap.length", "radiotap.flags.fcs", "wlan.fc.type", "wlan.fc.ds",
                     "wlan.fc.protected", "wlan.fc.retry", "wlan.fc.subtype", "wlan.da", "wlan.sa",
                     "wlan.bssid", "wlan.seq", "wlan.fcs", "eth.dst", "eth.src", "udp.dstport",
                     "udp.length", "ip.dst", "ip.src", "wlan.qos.amsdupresent" }) do
    fe[n] = Field.new(n)
end
local function fv(name)
    local f = fe[name]()
    return f and f.value or nil
end
local function fs(name)
    local f = fe[name]()
    return f and tostring(f) or nil
end

-- (Wireshark 4.0 embeds Lua 5.2: bit32, not the 5.3 operators.)
-- CRC-8/MAXIM (reflected 0x31 = 0x8C, init 0), as the protocol uses for a (value, index) pair.
local crc_table = {}
for i = 0, 255 do
    local c = i
    for _ = 1, 8 do
        if c % 2 == 1 then c = bit32.bxor(bit32.rshift(c, 1), 0x8C) else c = bit32.rshift(c, 1) end
    end
    crc_table[i] = c
end
local function crc8(bytes)
    local c = 0
    for _, b in ipairs(bytes) do c = crc_table[bit32.band(bit32.bxor(c, b), 0xFF)] end
    return c
end

local function group_addr(mac)   -- "01:00:5e:..." / "ff:ff:..."
    if not mac then return false end
    local first = tonumber(mac:sub(1, 2), 16)
    return first ~= nil and first % 2 == 1
end

local streams = {}    -- key -> { last = {...}, ovh = n or nil, win = {...}, seq = n }
local results = {}    -- frame number -> what the first pass found (Wireshark revisits frames)

local function classify(L)
    if GUIDE[L] then return "guide" end
    if L >= EXTRA and L <= EXTRA + 255 then return "nibbles", L - EXTRA end
    if L >= EXTRA + 256 and L <= EXTRA + 256 + 127 then return "index", L - EXTRA - 256 end
    return nil
end

-- The length and stream of a frame that may carry an ESP-TOUCH datagram, or nil.
local function observe()
    local dport = fv("udp.dstport")
    if dport == 7001 and fv("udp.length") then
        -- The UDP header is visible (a wire, loopback, or an open network): no calibration needed.
        local key = "udp " .. (fs("ip.src") or "?") .. ">" .. (fs("ip.dst") or "?")
        return fv("udp.length") - 8, key, 0
    end
    local wtype = fv("wlan.fc.type")
    if wtype ~= 2 or not group_addr(fs("wlan.da")) or fv("wlan.qos.amsdupresent") then return nil end
    local flen = fv("frame.len") - (fv("radiotap.length") or 0)
    if fv("radiotap.flags.fcs") then flen = flen - 4 end
    local key = table.concat({ "wlan", fs("wlan.bssid") or "?", fs("wlan.sa") or "?", tostring(fv("wlan.fc.ds")),
                               tostring(fv("wlan.fc.subtype")), tostring(fv("wlan.fc.protected")) }, " ")
    return flen, key, nil
end

local function first_pass(pnum)
    local flen, key, fixed = observe()
    if not flen then return nil end
    local st = streams[key]
    if not st then
        st = { last = {}, win = {}, ovh = fixed }
        streams[key] = st
    end
    if fv("wlan.fc.retry") and st.seq ~= nil and st.seq == fv("wlan.seq") then return nil end  -- a retry copy
    st.seq = fv("wlan.seq")
    -- Guide calibration: four distinct lengths spanning exactly 3, min - 512 = overhead.
    table.insert(st.last, flen)
    if #st.last > 4 then table.remove(st.last, 1) end
    if #st.last == 4 then
        local lo, hi, seen, distinct = math.huge, -1, {}, 0
        for _, v in ipairs(st.last) do
            if not seen[v] then seen[v] = true; distinct = distinct + 1 end
            lo = math.min(lo, v); hi = math.max(hi, v)
        end
        if distinct == 4 and hi - lo == 3 and lo - 512 >= 0 and lo - 512 <= MAX_OVERHEAD
           and (fixed == nil or lo == 512) then
            st.ovh = lo - 512
        end
    end
    if st.ovh == nil then return nil end
    local L = flen - st.ovh
    local kind, v = classify(L)
    local r = { L = L, ovh = st.ovh, kind = kind or "other", key = key }
    if kind == "nibbles" then r.nib = v elseif kind == "index" then r.index = v end
    table.insert(st.win, { kind = kind, v = v })
    if #st.win > 3 then table.remove(st.win, 1) end
    local a, i, b = st.win[1], st.win[2], st.win[3]
    if #st.win == 3 and a.kind == "nibbles" and i.kind == "index" and b.kind == "nibbles" then
        local value = bit32.bor(bit32.lshift(bit32.band(a.v, 0x0F), 4), bit32.band(b.v, 0x0F))
        local crc = bit32.bor(bit32.band(a.v, 0xF0), bit32.rshift(b.v, 4))
        if crc == crc8({ value, i.v }) then
            r.index, r.value = i.v, value
            st.win = {}
        end
    end
    if not kind then st.win = {} end
    results[pnum] = r
    return r
end

function et.dissector(tvb, pinfo, tree)
    local r
    if not pinfo.visited then r = first_pass(pinfo.number) else r = results[pinfo.number] end
    if not r then return end
    local t = tree:add(et, "ESP-TOUCH v1: " .. r.kind .. " (L=" .. r.L .. ")")
    t:add(f_len, r.L)
    t:add(f_ovh, r.ovh)
    t:add(f_kind, r.kind)
    t:add(f_guide, r.kind == "guide")
    t:add(f_stream, r.key)
    if r.nib then t:add(f_nib, r.nib) end
    if r.index then t:add(f_index, r.index) end
    local info = "ESP-TOUCH " .. r.kind .. " L=" .. r.L
    if r.value then
        t:add(f_value, r.value)
        info = string.format("ESP-TOUCH datum [%d] = 0x%02x", r.index, r.value)
    end
    pinfo.cols.protocol = "ESP-TOUCH"
    pinfo.cols.info = info
end

function et.init()
    streams, results = {}, {}
end
register_postdissector(et)

---------------------------------------------------------------------------------------------
-- The ESP-TOUCH acknowledgement, UDP 18266: total-length byte, station MAC, station IPv4.
local ack = Proto("esptouch_ack", "ESP-TOUCH acknowledgement")
local f_ack_t   = ProtoField.uint8("esptouch.ack.total", "Datum length (9 + SSID + password)")
local f_ack_mac = ProtoField.ether("esptouch.ack.mac", "Device MAC")
local f_ack_ip  = ProtoField.ipv4("esptouch.ack.ip", "Device IPv4")
local f_ack_bad = ProtoField.bool("esptouch.ack.malformed", "Not an 11-byte acknowledgement")
ack.fields = { f_ack_t, f_ack_mac, f_ack_ip, f_ack_bad }

function ack.dissector(tvb, pinfo, tree)
    local t = tree:add(ack, tvb(), "ESP-TOUCH acknowledgement")
    pinfo.cols.protocol = "ESP-TOUCH ack"
    if tvb:len() ~= 11 then
        t:add(f_ack_bad, true)
        pinfo.cols.info = "malformed ESP-TOUCH ack (" .. tvb:len() .. " bytes)"
        return
    end
    t:add(f_ack_t, tvb(0, 1))
    t:add(f_ack_mac, tvb(1, 6))
    t:add(f_ack_ip, tvb(7, 4))
    pinfo.cols.info = "ESP-TOUCH ack from " .. tostring(tvb(1, 6):ether()) .. " " .. tostring(tvb(7, 4):ipv4())
end

---------------------------------------------------------------------------------------------
-- Tencent's UDP 8266 JSON and the log service on UDP 9876.
local tc = Proto("tc8266", "Tencent IoT Explorer device service (UDP 8266)")
local f_cmd     = ProtoField.int32("tc8266.cmdType", "cmdType")
local f_cmdname = ProtoField.string("tc8266.meaning", "Meaning")
local f_token   = ProtoField.string("tc8266.token", "Bind token (masked)")
local f_pid     = ProtoField.string("tc8266.productId", "Product ID")
local f_dn      = ProtoField.string("tc8266.deviceName", "Device name")
local f_region  = ProtoField.string("tc8266.productRegion", "Region")
local f_proto   = ProtoField.string("tc8266.protoVersion", "Protocol version")
local f_reply   = ProtoField.string("tc8266.deviceReply", "Device reply")
local f_log     = ProtoField.string("tc8266.log", "Error text")
local f_err     = ProtoField.uint16("tc8266.err_id", "Error id")
local f_sub     = ProtoField.int32("tc8266.sub_id", "Error sub-id")
local f_ssid    = ProtoField.string("tc8266.ssid", "SSID (soft-AP flow)")
local f_json_bad = ProtoField.bool("tc8266.malformed", "Not the JSON this service speaks")
tc.fields = { f_cmd, f_cmdname, f_token, f_pid, f_dn, f_region, f_proto, f_reply, f_log, f_err, f_sub, f_ssid, f_json_bad }

local MEANING = { [0] = "token (SmartConfig)", [1] = "token + Wi-Fi (soft-AP)", [2] = "device reply",
                  [3] = "log query" }

-- The fields are flat JSON: a string or integer value per key is all this service ever sends.
local function json_field(s, key)
    local v = s:match('"' .. key .. '"%s*:%s*"([^"]*)"')
    if v then return v end
    return s:match('"' .. key .. '"%s*:%s*(-?%d+)')
end

local function mask(token)
    if #token <= 4 then return string.rep("*", #token) end
    return token:sub(1, 4) .. string.rep("*", #token - 4)
end

local function dissect_json(tvb, pinfo, tree, proto, label, is_log)
    local s = tvb():string()
    local t = tree:add(proto, tvb(), label)
    pinfo.cols.protocol = is_log and "SC-LOG" or "TC8266"
    local cmd = tonumber(json_field(s, "cmdType") or "")
    if not s:match("^%s*{") or not cmd then
        if is_log then   -- the log service answers in plain text
            pinfo.cols.info = "provisioning log (" .. tvb:len() .. " bytes)"
            return
        end
        t:add(f_json_bad, true)
        pinfo.cols.info = "not tc8266 JSON (" .. tvb:len() .. " bytes)"
        return
    end
    t:add(f_cmd, cmd)
    t:add(f_cmdname, MEANING[cmd] or "unknown")
    local info = "cmdType " .. cmd .. " (" .. (MEANING[cmd] or "unknown") .. ")"
    local tok = json_field(s, "token")
    if tok then t:add(f_token, mask(tok)); info = info .. " token " .. mask(tok) end
    for key, f in pairs({ productId = f_pid, deviceName = f_dn, productRegion = f_region,
                          protoVersion = f_proto, ssid = f_ssid }) do
        local v = json_field(s, key)
        if v then t:add(f, v) end
    end
    local pid, dn = json_field(s, "productId"), json_field(s, "deviceName")
    if pid and dn then info = info .. " " .. pid .. "/" .. dn end
    local reply = json_field(s, "deviceReply")
    if reply then
        t:add(f_reply, reply)
        local log = json_field(s, "log") or ""
        t:add(f_log, log)
        local e, sub = log:match("%((%d+),%s*(-?%d+)%)")
        if e then t:add(f_err, tonumber(e)); t:add(f_sub, tonumber(sub)) end
        info = info .. " " .. reply .. ": " .. log
    end
    pinfo.cols.info = info
end

function tc.dissector(tvb, pinfo, tree)
    dissect_json(tvb, pinfo, tree, tc, "Tencent device service", false)
end

local logsvc = Proto("sclog", "Provisioning log service (UDP 9876)")
logsvc.fields = {}
function logsvc.dissector(tvb, pinfo, tree)
    dissect_json(tvb, pinfo, tree, logsvc, "Provisioning log service", true)
end

local udp_port = DissectorTable.get("udp.port")
udp_port:add(18266, ack)
udp_port:add(8266, tc)
udp_port:add(9876, logsvc)
