<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US">
<context>
    <name>QCommandLineParser</name>
    <message>
        <source>Displays help on commandline options.</source>
        <translation></translation>
    </message>
    <message>
        <source>Displays help including Qt specific options.</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::client::BuildDock</name>
    <message>
        <source>Build</source>
        <translation></translation>
    </message>
    <message>
        <source>Claim</source>
        <translation></translation>
    </message>
    <message>
        <source>Take an unowned cell: anywhere at first, then next to your cells.</source>
        <translation></translation>
    </message>
    <message>
        <source>Build on a cell you own. R turns it; Escape puts the tool away.</source>
        <translation></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation></translation>
    </message>
    <message>
        <source>Remove the structure on a cell you own: its cost and items come back.</source>
        <translation></translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation></translation>
    </message>
    <message>
        <source>%1
free</source>
        <translation></translation>
    </message>
    <message>
        <source>%1
cost: %2</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::client::ChatDock</name>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
    <message>
        <source>No messages yet.</source>
        <translation>No messages yet.</translation>
    </message>
    <message>
        <source>Say something (T)</source>
        <translation>Say something (T)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Send</translation>
    </message>
    <message>
        <source>[%1] %2: %3</source>
        <translation>[%1] %2: %3</translation>
    </message>
</context>
<context>
    <name>hex::client::ClientOptions</name>
    <message>
        <source>Player</source>
        <translation></translation>
    </message>
    <message>
        <source>Join the server at this address, for instance ws://example.org:7357.</source>
        <translation></translation>
    </message>
    <message>
        <source>url</source>
        <translation></translation>
    </message>
    <message>
        <source>When hosting, accept players from the local network (listen on all interfaces instead of this computer only).</source>
        <translation></translation>
    </message>
    <message>
        <source>Your player name (default: your user name).</source>
        <translation></translation>
    </message>
    <message>
        <source>name</source>
        <translation></translation>
    </message>
    <message>
        <source>Language of the interface: en or fr (default: the system&apos;s, else en).</source>
        <translation></translation>
    </message>
    <message>
        <source>code</source>
        <translation></translation>
    </message>
    <message>
        <source>Save a PNG picture of the window to this file, then quit. Needs --quit-after.</source>
        <translation></translation>
    </message>
    <message>
        <source>file</source>
        <translation></translation>
    </message>
    <message>
        <source>Quit this many seconds after start (fractions allowed), after taking the screenshot if one was asked for.</source>
        <translation></translation>
    </message>
    <message>
        <source>seconds</source>
        <translation></translation>
    </message>
    <message>
        <source>Unexpected argument &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--host and --connect exclude each other: choose one.</source>
        <translation></translation>
    </message>
    <message>
        <source>--connect needs a ws:// or wss:// address such as ws://example.org:7357, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--name must be 1 to 32 characters.</source>
        <translation></translation>
    </message>
    <message>
        <source>--lang must be en or fr, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--quit-after must be a number of seconds above 0, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--screenshot needs a file name.</source>
        <translation></translation>
    </message>
    <message>
        <source>--screenshot needs --quit-after to say when to take it.</source>
        <translation></translation>
    </message>
    <message>
        <source>Host a game: start a server in this process and join it. Without --host or --connect, the Start screen opens.</source>
        <translation>Host a game: start a server in this process and join it. Without --host or --connect, the Start screen opens.</translation>
    </message>
</context>
<context>
    <name>hex::client::DisplayCheck</name>
    <message>
        <source>hexsphere: no display found; to run a dedicated server use ./run.sh --server (or hexsphere-server --help)</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::client::HostDialog</name>
    <message>
        <source>Host a game</source>
        <translation>Host a game</translation>
    </message>
    <message>
        <source>World</source>
        <translation>World</translation>
    </message>
    <message>
        <source>New world</source>
        <translation>New world</translation>
    </message>
    <message>
        <source>The same seed and size always give the same planet.</source>
        <translation>The same seed and size always give the same planet.</translation>
    </message>
    <message>
        <source> updates/s</source>
        <translation> updates/s</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Name:</translation>
    </message>
    <message>
        <source>S&amp;eed:</source>
        <translation>S&amp;eed:</translation>
    </message>
    <message>
        <source>&amp;Size:</source>
        <translation>&amp;Size:</translation>
    </message>
    <message>
        <source>&amp;Speed:</source>
        <translation>&amp;Speed:</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Network</translation>
    </message>
    <message>
        <source>any free port</source>
        <translation>any free port</translation>
    </message>
    <message>
        <source>Visible on the local network</source>
        <translation>Visible on the local network</translation>
    </message>
    <message>
        <source>Players on your network see the game in their server list and can join it. Otherwise only this computer can.</source>
        <translation>Players on your network see the game in their server list and can join it. Otherwise only this computer can.</translation>
    </message>
    <message>
        <source>none</source>
        <translation>none</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Pass&amp;word:</translation>
    </message>
    <message>
        <source>&amp;Host</source>
        <translation>&amp;Host</translation>
    </message>
    <message>
        <source>The world name must be 1 to %1 characters.</source>
        <translation>The world name must be 1 to %1 characters.</translation>
    </message>
    <message>
        <source>The seed must be a whole number from 0 to 18446744073709551615.</source>
        <translation>The seed must be a whole number from 0 to 18446744073709551615.</translation>
    </message>
    <message>
        <source>The port must be 0 (any free port) or 1024 to 65535.</source>
        <translation>The port must be 0 (any free port) or 1024 to 65535.</translation>
    </message>
    <message>
        <source>%1 cells</source>
        <translation>%1 cells</translation>
    </message>
    <message>
        <source>Continue a saved world</source>
        <translation>Continue a saved world</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>Played</source>
        <translation>Played</translation>
    </message>
    <message>
        <source>Players</source>
        <translation>Players</translation>
    </message>
    <message>
        <source>Last played</source>
        <translation>Last played</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <comment>a world name and a number</comment>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source>This game keeps no worlds.</source>
        <translation>This game keeps no worlds.</translation>
    </message>
    <message>
        <source>n=%1 (%2 cells)</source>
        <translation>n=%1 (%2 cells)</translation>
    </message>
    <message>
        <source>%1 ticks</source>
        <translation>%1 ticks</translation>
    </message>
    <message>
        <source>Seed %1, saved in %2</source>
        <translation>Seed %1, saved in %2</translation>
    </message>
    <message>
        <source>cannot be opened</source>
        <translation>cannot be opened</translation>
    </message>
    <message>
        <source>No saved worlds yet in %1.</source>
        <translation>No saved worlds yet in %1.</translation>
    </message>
    <message>
        <source>The saved worlds cannot be listed: %1</source>
        <translation>The saved worlds cannot be listed: %1</translation>
    </message>
    <message>
        <source>Choose the saved world to continue.</source>
        <translation>Choose the saved world to continue.</translation>
    </message>
    <message>
        <source>The world name may hold letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, and may not start with &apos;.&apos;.</source>
        <translation>The world name may hold letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, and may not start with &apos;.&apos;.</translation>
    </message>
    <message>
        <source>A saved world is called %1 already: continue it, or choose another name.</source>
        <translation>A saved world is called %1 already: continue it, or choose another name.</translation>
    </message>
</context>
<context>
    <name>hex::client::InventoryDock</name>
    <message>
        <source>Inventory</source>
        <translation></translation>
    </message>
    <message>
        <source>Item</source>
        <translation></translation>
    </message>
    <message>
        <source>Count</source>
        <translation></translation>
    </message>
    <message>
        <source>Item %1</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::client::JoinDialog</name>
    <message>
        <source>Join a game</source>
        <translation>Join a game</translation>
    </message>
    <message>
        <source>Games on your local network:</source>
        <translation>Games on your local network:</translation>
    </message>
    <message>
        <source>host, host:port or ws://host:port/ws</source>
        <translation>host, host:port or ws://host:port/ws</translation>
    </message>
    <message>
        <source>empty: play as a guest</source>
        <translation>empty: play as a guest</translation>
    </message>
    <message>
        <source>only if the server asks for one</source>
        <translation>only if the server asks for one</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>&amp;Address:</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Your &amp;name:</translation>
    </message>
    <message>
        <source>Account pass&amp;word:</source>
        <translation>Account pass&amp;word:</translation>
    </message>
    <message>
        <source>&amp;Server password:</source>
        <translation>&amp;Server password:</translation>
    </message>
    <message>
        <source>&amp;Join</source>
        <translation>&amp;Join</translation>
    </message>
    <message>
        <source>Choose a server in the list or type its address.</source>
        <translation>Choose a server in the list or type its address.</translation>
    </message>
    <message>
        <source>A server address is host, host:port or a ws:// or wss:// URL, not “%1”.</source>
        <translation>A server address is host, host:port or a ws:// or wss:// URL, not “%1”.</translation>
    </message>
    <message>
        <source>The port in “%1” must be 1 to 65535.</source>
        <translation>The port in “%1” must be 1 to 65535.</translation>
    </message>
    <message>
        <source>Your name must be 1 to %1 characters.</source>
        <translation>Your name must be 1 to %1 characters.</translation>
    </message>
</context>
<context>
    <name>hex::client::MachineTracks</name>
    <message>
        <source>Machines came for chunk %1, which the world does not have.</source>
        <translation>Machines came for chunk %1, which the world does not have.</translation>
    </message>
    <message>
        <source>A machine of chunk %1 was removed from cell %2, outside it.</source>
        <translation>A machine of chunk %1 was removed from cell %2, outside it.</translation>
    </message>
    <message>
        <source>A machine of chunk %1 stands on cell %2, outside it.</source>
        <translation>A machine of chunk %1 stands on cell %2, outside it.</translation>
    </message>
    <message>
        <source>The belt on cell %1 lists %2 items but %3 positions.</source>
        <translation>The belt on cell %1 lists %2 items but %3 positions.</translation>
    </message>
</context>
<context>
    <name>hex::client::MainWindow</name>
    <message>
        <source>Hexsphere</source>
        <translation></translation>
    </message>
    <message>
        <source>&amp;Game</source>
        <translation></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation></translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation></translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation></translation>
    </message>
    <message>
        <source>Joining the game at %1…</source>
        <translation></translation>
    </message>
    <message>
        <source>Connected to %1, world “%2”</source>
        <translation></translation>
    </message>
    <message>
        <source>Hexsphere — %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>FPS: %1  UPS: %2  Tick: %3  Cells: %4</source>
        <translation></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation></translation>
    </message>
    <message>
        <source>Cell %1</source>
        <translation></translation>
    </message>
    <message>
        <source>deep water</source>
        <translation></translation>
    </message>
    <message>
        <source>shallow water</source>
        <translation></translation>
    </message>
    <message>
        <source>sand</source>
        <translation></translation>
    </message>
    <message>
        <source>grassland</source>
        <translation></translation>
    </message>
    <message>
        <source>forest</source>
        <translation></translation>
    </message>
    <message>
        <source>desert</source>
        <translation></translation>
    </message>
    <message>
        <source>rock</source>
        <translation></translation>
    </message>
    <message>
        <source>snow</source>
        <translation></translation>
    </message>
    <message>
        <source>terrain %1</source>
        <translation></translation>
    </message>
    <message>
        <source>resource: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>flora %1</source>
        <translation></translation>
    </message>
    <message>
        <source>water %1</source>
        <translation></translation>
    </message>
    <message>
        <source>pollution %1</source>
        <translation></translation>
    </message>
    <message>
        <source>unclaimed</source>
        <translation></translation>
    </message>
    <message>
        <source>owner: you</source>
        <translation></translation>
    </message>
    <message>
        <source>owner: player %1</source>
        <translation></translation>
    </message>
    <message>
        <source>structure: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Claim</source>
        <translation></translation>
    </message>
    <message>
        <source>Build %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Remove</source>
        <translation></translation>
    </message>
    <message>
        <source>Nothing stands on cell %1 to rotate.</source>
        <translation></translation>
    </message>
    <message>
        <source>Rotate</source>
        <translation></translation>
    </message>
    <message>
        <source>Not connected: “%1” was not sent.</source>
        <translation></translation>
    </message>
    <message>
        <source>Action</source>
        <translation></translation>
    </message>
    <message>
        <source>%1 on cell %2: done.</source>
        <translation></translation>
    </message>
    <message>
        <source>%1 on cell %2 refused: %3</source>
        <translation></translation>
    </message>
    <message>
        <source>Game menu</source>
        <translation>Game menu</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>&amp;Resume</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Settings…</translation>
    </message>
    <message>
        <source>&amp;Leave game</source>
        <translation>&amp;Leave game</translation>
    </message>
    <message>
        <source>Say in c&amp;hat</source>
        <translation>Say in c&amp;hat</translation>
    </message>
    <message>
        <source>Refused: %1</source>
        <translation>Refused: %1</translation>
    </message>
</context>
<context>
    <name>hex::client::NetGraph</name>
    <message>
        <source>—</source>
        <translation>—</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>/s</source>
        <translation>/s</translation>
    </message>
    <message>
        <source>FPS</source>
        <translation>FPS</translation>
    </message>
    <message>
        <source>UPS</source>
        <translation>UPS</translation>
    </message>
    <message>
        <source>Ping</source>
        <translation>Ping</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>%1 %2 (max %3)</source>
        <translation>%1 %2 (max %3)</translation>
    </message>
</context>
<context>
    <name>hex::client::NetGraphDock</name>
    <message>
        <source>Net graph</source>
        <translation>Net graph</translation>
    </message>
</context>
<context>
    <name>hex::client::PlayersDock</name>
    <message>
        <source>Players</source>
        <translation>Players</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>State</source>
        <translation>State</translation>
    </message>
    <message>
        <source>Cells</source>
        <translation>Cells</translation>
    </message>
    <message>
        <source>Players: %1 online of %2</source>
        <translation>Players: %1 online of %2</translation>
    </message>
    <message>
        <source>online</source>
        <translation>online</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>offline</translation>
    </message>
    <message>
        <source>You</source>
        <translation>You</translation>
    </message>
</context>
<context>
    <name>hex::client::RecipeDock</name>
    <message>
        <source>Recipe</source>
        <translation>Recipe</translation>
    </message>
    <message>
        <source>None</source>
        <translation>None</translation>
    </message>
    <message>
        <source>Set recipe %1</source>
        <translation>Set recipe %1</translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation>%1 × %2</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 ticks</source>
        <translation>%1 ticks</translation>
    </message>
    <message>
        <source>%1
%2 → %3 · %4</source>
        <translation>%1
%2 → %3 · %4</translation>
    </message>
    <message>
        <source>No machine selected</source>
        <translation>No machine selected</translation>
    </message>
    <message>
        <source>Click one of your furnaces or assemblers with no build tool to choose what it makes.</source>
        <translation>Click one of your furnaces or assemblers with no build tool to choose what it makes.</translation>
    </message>
    <message>
        <source>%1 on cell %2</source>
        <translation>%1 on cell %2</translation>
    </message>
    <message>
        <source>None
stop making anything</source>
        <translation>None
stop making anything</translation>
    </message>
    <message>
        <source>Current recipe unknown: the server does not send it.</source>
        <translation>Current recipe unknown: the server does not send it.</translation>
    </message>
    <message>
        <source>Current recipe: none</source>
        <translation>Current recipe: none</translation>
    </message>
    <message>
        <source>Current recipe: %1</source>
        <translation>Current recipe: %1</translation>
    </message>
</context>
<context>
    <name>hex::client::ServerConnection</name>
    <message>
        <source>The server sent a text frame; Hexsphere servers send binary frames only.</source>
        <translation></translation>
    </message>
    <message>
        <source>Could not connect to %1.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server closed the connection.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server closed the connection: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Connection to %1 failed: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a frame that could not be read: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a tick before describing the world.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server refused this client&apos;s version: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>The server reported an error: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a Hello, which only clients send.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a message of a kind this client does not know.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server speaks protocol version %1, but this client speaks version %2.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server described a world of size %1, outside 1..%2.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server described %1 cells, but a world of size %2 has %3.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server described %1 chunk rows per rhombus, more than the world size %2.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a snapshot before describing the world.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a snapshot of tick %1 that does not fit the world: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent tick %1 with changes that do not fit the world: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent an action, which only clients send.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server gave this client player number %1, which is not a valid player.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent a result for action %1, which this client did not send.</source>
        <translation></translation>
    </message>
    <message>
        <source>The server sent tick %1 with results that do not fit: %2</source>
        <translation></translation>
    </message>
    <message numerus="yes">
        <source>The connection to %1 was lost and %n attempt(s) to reconnect failed.</source>
        <translation>
            <numerusform>The connection to %1 was lost and %n attempt to reconnect failed.</numerusform>
            <numerusform>The connection to %1 was lost and %n attempts to reconnect failed.</numerusform>
        </translation>
    </message>
    <message>
        <source>The server sent tick %1 with a chunk that does not fit the world: %2</source>
        <translation>The server sent tick %1 with a chunk that does not fit the world: %2</translation>
    </message>
    <message>
        <source>The server sent a message that only clients send.</source>
        <translation>The server sent a message that only clients send.</translation>
    </message>
    <message>
        <source>The server sent tick %1 with machines that do not fit the world: %2</source>
        <translation>The server sent tick %1 with machines that do not fit the world: %2</translation>
    </message>
</context>
<context>
    <name>hex::client::ServerListModel</name>
    <message>
        <source>password, account</source>
        <translation>password, account</translation>
    </message>
    <message>
        <source>password</source>
        <translation>password</translation>
    </message>
    <message>
        <source>account</source>
        <translation>account</translation>
    </message>
    <message>
        <source>Joining needs the server&apos;s password and an account.</source>
        <translation>Joining needs the server&apos;s password and an account.</translation>
    </message>
    <message>
        <source>Joining needs the server&apos;s password.</source>
        <translation>Joining needs the server&apos;s password.</translation>
    </message>
    <message>
        <source>Only players with an account may join.</source>
        <translation>Only players with an account may join.</translation>
    </message>
    <message>
        <source>Anyone may join.</source>
        <translation>Anyone may join.</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1 players online, at most %2.</source>
        <translation>%1 players online, at most %2.</translation>
    </message>
    <message>
        <source>%1 cells (n = %2).</source>
        <translation>%1 cells (n = %2).</translation>
    </message>
    <message>
        <source>Round trip of the last LAN query.</source>
        <translation>Round trip of the last LAN query.</translation>
    </message>
    <message>
        <source>No answer to a LAN query yet.</source>
        <translation>No answer to a LAN query yet.</translation>
    </message>
    <message>
        <source>World</source>
        <translation>World</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>Host</translation>
    </message>
    <message>
        <source>Players</source>
        <translation>Players</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>Ping</source>
        <translation>Ping</translation>
    </message>
    <message>
        <source>Access</source>
        <translation>Access</translation>
    </message>
</context>
<context>
    <name>hex::client::Settings</name>
    <message>
        <source>Rotate the structure under the mouse</source>
        <translation>Rotate the structure under the mouse</translation>
    </message>
    <message>
        <source>Turn the camera left</source>
        <translation>Turn the camera left</translation>
    </message>
    <message>
        <source>Turn the camera right</source>
        <translation>Turn the camera right</translation>
    </message>
    <message>
        <source>Turn the camera up</source>
        <translation>Turn the camera up</translation>
    </message>
    <message>
        <source>Turn the camera down</source>
        <translation>Turn the camera down</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Zoom in</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Zoom out</translation>
    </message>
    <message>
        <source>Game menu</source>
        <translation>Game menu</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>Chat</translation>
    </message>
</context>
<context>
    <name>hex::client::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>host, host:port or ws://host:port/ws</source>
        <translation>host, host:port or ws://host:port/ws</translation>
    </message>
    <message>
        <source>Player &amp;name:</source>
        <translation>Player &amp;name:</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Language:</translation>
    </message>
    <message>
        <source>Takes effect when Hexsphere restarts.</source>
        <translation>Takes effect when Hexsphere restarts.</translation>
    </message>
    <message>
        <source>Default &amp;server:</source>
        <translation>Default &amp;server:</translation>
    </message>
    <message>
        <source>&amp;General</source>
        <translation>&amp;General</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Off</translation>
    </message>
    <message>
        <source>%1×</source>
        <translation>%1×</translation>
    </message>
    <message>
        <source>Wait for the display’s vertical sync</source>
        <translation>Wait for the display’s vertical sync</translation>
    </message>
    <message>
        <source>&amp;Antialiasing (MSAA):</source>
        <translation>&amp;Antialiasing (MSAA):</translation>
    </message>
    <message>
        <source>&amp;Vsync:</source>
        <translation>&amp;Vsync:</translation>
    </message>
    <message>
        <source>Takes effect when the next game starts.</source>
        <translation>Takes effect when the next game starts.</translation>
    </message>
    <message>
        <source>G&amp;raphics</source>
        <translation>G&amp;raphics</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Key</translation>
    </message>
    <message>
        <source>Restore &amp;defaults</source>
        <translation>Restore &amp;defaults</translation>
    </message>
    <message>
        <source>&amp;Keys</source>
        <translation>&amp;Keys</translation>
    </message>
    <message>
        <source>The player name must be 1 to %1 characters.</source>
        <translation>The player name must be 1 to %1 characters.</translation>
    </message>
    <message>
        <source>“%1” is bound to both “%2” and “%3”.</source>
        <translation>“%1” is bound to both “%2” and “%3”.</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatic</translation>
    </message>
    <message>
        <source>Automatic: 4× on a graphics card, off when the computer draws without one (software rendering), where smoothing edges would cost most of each frame.</source>
        <translation>Automatic: 4× on a graphics card, off when the computer draws without one (software rendering), where smoothing edges would cost most of each frame.</translation>
    </message>
</context>
<context>
    <name>hex::client::Shell</name>
    <message>
        <source>Starting the game</source>
        <translation>Starting the game</translation>
    </message>
    <message>
        <source>Host a game</source>
        <translation>Host a game</translation>
    </message>
    <message>
        <source>Starting the world “%1”…</source>
        <translation>Starting the world “%1”…</translation>
    </message>
    <message>
        <source>%1
%2 cells, %3 s elapsed</source>
        <translation>%1
%2 cells, %3 s elapsed</translation>
    </message>
</context>
<context>
    <name>hex::client::StartScreen</name>
    <message>
        <source>Hexsphere</source>
        <translation>Hexsphere</translation>
    </message>
    <message>
        <source>Build factories on a living hexagonal planet.</source>
        <translation>Build factories on a living hexagonal planet.</translation>
    </message>
    <message>
        <source>&amp;Host game</source>
        <translation>&amp;Host game</translation>
    </message>
    <message>
        <source>&amp;Join game</source>
        <translation>&amp;Join game</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>&amp;Settings</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quit</translation>
    </message>
    <message>
        <source>Start a world on this computer and play in it; others may join.</source>
        <translation>Start a world on this computer and play in it; others may join.</translation>
    </message>
    <message>
        <source>Play in a world that another computer hosts.</source>
        <translation>Play in a world that another computer hosts.</translation>
    </message>
</context>
<context>
    <name>hex::client::TimedScreenshot</name>
    <message>
        <source>No screenshot: the planet never arrived (%1).</source>
        <translation></translation>
    </message>
    <message>
        <source>No screenshot: the planet arrived but was never drawn.</source>
        <translation></translation>
    </message>
    <message>
        <source>No screenshot: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Could not save the screenshot to %1: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>Screenshot saved to %1.</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::client::WindowCapture</name>
    <message>
        <source>There is no window to capture.</source>
        <translation></translation>
    </message>
    <message>
        <source>The 3D view could not be captured.</source>
        <translation></translation>
    </message>
    <message>
        <source>The 3D view did not deliver a frame within %1 seconds.</source>
        <translation></translation>
    </message>
    <message>
        <source>The window closed during the capture.</source>
        <translation></translation>
    </message>
    <message>
        <source>The 3D view returned an empty frame.</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::content</name>
    <message>
        <source>Assembler</source>
        <translation>Assembler</translation>
    </message>
    <message>
        <source>Brick</source>
        <translation>Brick</translation>
    </message>
    <message>
        <source>Build robot arms</source>
        <translation>Build robot arms</translation>
    </message>
    <message>
        <source>Carbon filter</source>
        <translation>Carbon filter</translation>
    </message>
    <message>
        <source>Chest</source>
        <translation>Chest</translation>
    </message>
    <message>
        <source>Circuit</source>
        <translation>Circuit</translation>
    </message>
    <message>
        <source>Coal</source>
        <translation>Coal</translation>
    </message>
    <message>
        <source>Coal seam</source>
        <translation>Coal seam</translation>
    </message>
    <message>
        <source>Conveyor</source>
        <translation>Conveyor</translation>
    </message>
    <message>
        <source>Copper deposit</source>
        <translation>Copper deposit</translation>
    </message>
    <message>
        <source>Copper ore</source>
        <translation>Copper ore</translation>
    </message>
    <message>
        <source>Copper plate</source>
        <translation>Copper plate</translation>
    </message>
    <message>
        <source>Copper wire</source>
        <translation>Copper wire</translation>
    </message>
    <message>
        <source>Cut gears</source>
        <translation>Cut gears</translation>
    </message>
    <message>
        <source>Draw copper wire</source>
        <translation>Draw copper wire</translation>
    </message>
    <message>
        <source>Etch circuits</source>
        <translation>Etch circuits</translation>
    </message>
    <message>
        <source>Extractor</source>
        <translation>Extractor</translation>
    </message>
    <message>
        <source>Fertiliser</source>
        <translation>Fertiliser</translation>
    </message>
    <message>
        <source>Fire bricks</source>
        <translation>Fire bricks</translation>
    </message>
    <message>
        <source>Furnace</source>
        <translation>Furnace</translation>
    </message>
    <message>
        <source>Gear</source>
        <translation>Gear</translation>
    </message>
    <message>
        <source>Inserter</source>
        <translation>Inserter</translation>
    </message>
    <message>
        <source>Iron deposit</source>
        <translation>Iron deposit</translation>
    </message>
    <message>
        <source>Iron ore</source>
        <translation>Iron ore</translation>
    </message>
    <message>
        <source>Iron plate</source>
        <translation>Iron plate</translation>
    </message>
    <message>
        <source>Make steel</source>
        <translation>Make steel</translation>
    </message>
    <message>
        <source>Mix fertiliser</source>
        <translation>Mix fertiliser</translation>
    </message>
    <message>
        <source>Motor</source>
        <translation>Motor</translation>
    </message>
    <message>
        <source>Pack carbon filters</source>
        <translation>Pack carbon filters</translation>
    </message>
    <message>
        <source>Robot arm</source>
        <translation>Robot arm</translation>
    </message>
    <message>
        <source>Scrubber</source>
        <translation>Scrubber</translation>
    </message>
    <message>
        <source>Seeder</source>
        <translation>Seeder</translation>
    </message>
    <message>
        <source>Seeds</source>
        <translation>Seeds</translation>
    </message>
    <message>
        <source>Smelt copper</source>
        <translation>Smelt copper</translation>
    </message>
    <message>
        <source>Smelt iron</source>
        <translation>Smelt iron</translation>
    </message>
    <message>
        <source>Splitter</source>
        <translation>Splitter</translation>
    </message>
    <message>
        <source>Sprout seeds</source>
        <translation>Sprout seeds</translation>
    </message>
    <message>
        <source>Steel plate</source>
        <translation>Steel plate</translation>
    </message>
    <message>
        <source>Stone</source>
        <translation>Stone</translation>
    </message>
    <message>
        <source>Stone quarry</source>
        <translation>Stone quarry</translation>
    </message>
    <message>
        <source>Wind motors</source>
        <translation>Wind motors</translation>
    </message>
</context>
<context>
    <name>hex::geometry::HexSphere</name>
    <message>
        <source>the sphere&apos;s %1 table holds %2 entries, not %3</source>
        <translation></translation>
    </message>
    <message>
        <source>a sphere has 1 to 1024 subdivisions, not %1</source>
        <translation></translation>
    </message>
    <message>
        <source>a chunk split of %1 does not fit %2 subdivisions</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::protocol</name>
    <message>
        <source>The frame is empty.</source>
        <translation></translation>
    </message>
    <message>
        <source>The frame is larger than %1 bytes.</source>
        <translation></translation>
    </message>
    <message>
        <source>The frame is not a valid Hexsphere envelope.</source>
        <translation></translation>
    </message>
    <message>
        <source>The snapshot&apos;s %1 field does not hold one value for each of the %2 cells.</source>
        <translation></translation>
    </message>
    <message>
        <source>A delta names chunk %1, but the world has %2 chunks.</source>
        <translation></translation>
    </message>
    <message>
        <source>A delta arrived before the snapshot.</source>
        <translation></translation>
    </message>
    <message>
        <source>The delta of chunk %1 lists %2 cells but its %3 field does not match.</source>
        <translation></translation>
    </message>
    <message>
        <source>The delta of chunk %1 lists cell %2, which is out of order or not in that chunk.</source>
        <translation></translation>
    </message>
    <message>
        <source>The action&apos;s %1 is %2, but it must be at most %3.</source>
        <translation></translation>
    </message>
    <message>
        <source>The action&apos;s kind %1 is not one of the known kinds 1..7.</source>
        <translation></translation>
    </message>
    <message>
        <source>The action&apos;s cell %1 does not exist: the world has %2 cells.</source>
        <translation></translation>
    </message>
    <message>
        <source>A chunk snapshot names chunk %1, but the world has %2 chunks.</source>
        <translation>A chunk snapshot names chunk %1, but the world has %2 chunks.</translation>
    </message>
    <message>
        <source>A chunk snapshot arrived for a mirror of another size.</source>
        <translation>A chunk snapshot arrived for a mirror of another size.</translation>
    </message>
    <message>
        <source>The snapshot of chunk %1 does not list exactly the chunk&apos;s %2 cells in order.</source>
        <translation>The snapshot of chunk %1 does not list exactly the chunk&apos;s %2 cells in order.</translation>
    </message>
    <message>
        <source>The snapshot of chunk %1 lists %2 cells but its %3 field does not match.</source>
        <translation>The snapshot of chunk %1 lists %2 cells but its %3 field does not match.</translation>
    </message>
</context>
<context>
    <name>hex::server::Auth</name>
    <message>
        <source>Could not hash the password: the server is out of memory.</source>
        <translation>Could not hash the password: the server is out of memory.</translation>
    </message>
    <message>
        <source>The request carries no session token.</source>
        <translation>The request carries no session token.</translation>
    </message>
    <message>
        <source>The session token is not well formed.</source>
        <translation>The session token is not well formed.</translation>
    </message>
    <message>
        <source>The session token was not issued by this server.</source>
        <translation>The session token was not issued by this server.</translation>
    </message>
    <message>
        <source>The session token has expired; please log in again.</source>
        <translation>The session token has expired; please log in again.</translation>
    </message>
    <message>
        <source>A name has 1 to %1 characters: letters, digits, spaces, &apos;-&apos; and &apos;_&apos;.</source>
        <translation>A name has 1 to %1 characters: letters, digits, spaces, &apos;-&apos; and &apos;_&apos;.</translation>
    </message>
    <message>
        <source>A password has %1 to %2 characters.</source>
        <translation>A password has %1 to %2 characters.</translation>
    </message>
    <message>
        <source>That name is already taken.</source>
        <translation>That name is already taken.</translation>
    </message>
    <message>
        <source>There is no account with that name.</source>
        <translation>There is no account with that name.</translation>
    </message>
    <message>
        <source>The password is wrong.</source>
        <translation>The password is wrong.</translation>
    </message>
    <message>
        <source>The server could not process the password; try again later.</source>
        <translation>The server could not process the password; try again later.</translation>
    </message>
</context>
<context>
    <name>hex::server::GameServer</name>
    <message>
        <source>The server is already running.</source>
        <translation>The server is already running.</translation>
    </message>
    <message>
        <source>The game content does not load: %1</source>
        <translation>The game content does not load: %1</translation>
    </message>
    <message>
        <source>The world store %1 does not open: %2</source>
        <translation>The world store %1 does not open: %2</translation>
    </message>
    <message>
        <source>Loading the world “%1”…</source>
        <translation>Loading the world “%1”…</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; in %2 does not load: %3</source>
        <translation>World &apos;%1&apos; in %2 does not load: %3</translation>
    </message>
    <message numerus="yes">
        <source>Replaying the last %n ticks of “%1”…</source>
        <translation>
            <numerusform>Replaying the last tick of “%1”…</numerusform>
            <numerusform>Replaying the last %n ticks of “%1”…</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Cancelled.</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be created in %2: %3</source>
        <translation>World &apos;%1&apos; cannot be created in %2: %3</translation>
    </message>
    <message>
        <source>Generating the world “%1”…</source>
        <translation>Generating the world “%1”…</translation>
    </message>
    <message>
        <source>Saving the world “%1”…</source>
        <translation>Saving the world “%1”…</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be saved in %2: %3</source>
        <translation>World &apos;%1&apos; cannot be saved in %2: %3</translation>
    </message>
    <message>
        <source>The token key of world &apos;%1&apos; in %2 cannot be read: %3</source>
        <translation>The token key of world &apos;%1&apos; in %2 cannot be read: %3</translation>
    </message>
    <message>
        <source>it is not 32 bytes</source>
        <translation>it is not 32 bytes</translation>
    </message>
    <message>
        <source>The players of world &apos;%1&apos; in %2 cannot be read: %3</source>
        <translation>The players of world &apos;%1&apos; in %2 cannot be read: %3</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be kept in %2: %3</source>
        <translation>World &apos;%1&apos; cannot be kept in %2: %3</translation>
    </message>
</context>
<context>
    <name>hex::server::ServerConfig</name>
    <message>
        <source>TCP port to listen on; 0 picks a free one (default %1).</source>
        <translation></translation>
    </message>
    <message>
        <source>port</source>
        <translation></translation>
    </message>
    <message>
        <source>Address to listen on (default: all interfaces).</source>
        <translation></translation>
    </message>
    <message>
        <source>address</source>
        <translation></translation>
    </message>
    <message>
        <source>World size n: the planet has 10n²+2 cells, 1..%1 (default %2).</source>
        <translation></translation>
    </message>
    <message>
        <source>n</source>
        <translation></translation>
    </message>
    <message>
        <source>Simulation updates per second, %1..%2 (default %3).</source>
        <translation></translation>
    </message>
    <message>
        <source>rate</source>
        <translation></translation>
    </message>
    <message>
        <source>World generation seed (default %1).</source>
        <translation></translation>
    </message>
    <message>
        <source>number</source>
        <translation></translation>
    </message>
    <message>
        <source>World name (default &quot;%1&quot;).</source>
        <translation></translation>
    </message>
    <message>
        <source>name</source>
        <translation></translation>
    </message>
    <message>
        <source>--%1 must be a whole number from %2 to %3, not &quot;%4&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--seed must be a non-negative whole number, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--bind must be an IP address, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--world must be a name of 1 to 64 characters.</source>
        <translation></translation>
    </message>
    <message>
        <source>Threads the simulation step may use, 1..%1 (default %2).</source>
        <translation></translation>
    </message>
    <message>
        <source>count</source>
        <translation></translation>
    </message>
    <message>
        <source>Most WebSocket clients connected at once, 1..%1 (default %2).</source>
        <translation>Most WebSocket clients connected at once, 1..%1 (default %2).</translation>
    </message>
    <message>
        <source>Most HTTP connections open at once, long-polls included, 1..%1 (default %2).</source>
        <translation>Most HTTP connections open at once, long-polls included, 1..%1 (default %2).</translation>
    </message>
    <message>
        <source>Refuse guests: players register an account and log in.</source>
        <translation>Refuse guests: players register an account and log in.</translation>
    </message>
    <message>
        <source>Seconds a session token stays valid, 10..2592000 (default %1).</source>
        <translation>Seconds a session token stays valid, 10..2592000 (default %1).</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>seconds</translation>
    </message>
    <message>
        <source>Messages a session&apos;s mailbox holds before the oldest are replaced by a resync marker, 4..65536 (default %1).</source>
        <translation>Messages a session&apos;s mailbox holds before the oldest are replaced by a resync marker, 4..65536 (default %1).</translation>
    </message>
    <message>
        <source>Seconds a session with no connection and no request lives on, 10..86400 (default %1).</source>
        <translation>Seconds a session with no connection and no request lives on, 10..86400 (default %1).</translation>
    </message>
    <message>
        <source>A password players must give to join (default: none).</source>
        <translation>A password players must give to join (default: none).</translation>
    </message>
    <message>
        <source>password</source>
        <translation>password</translation>
    </message>
    <message>
        <source>Announce the server on the local network and answer LAN discovery (UDP port %1).</source>
        <translation>Announce the server on the local network and answer LAN discovery (UDP port %1).</translation>
    </message>
    <message>
        <source>--password must be 1 to 256 characters.</source>
        <translation>--password must be 1 to 256 characters.</translation>
    </message>
    <message>
        <source>Where worlds are kept: a directory of SQLite files (&quot;sqlite:DIR&quot; or a path), &quot;postgresql://user:password@host:port/database&quot;, or &quot;none&quot; to keep nothing (default: SQLite files in %1).</source>
        <translation>Where worlds are kept: a directory of SQLite files (&quot;sqlite:DIR&quot; or a path), &quot;postgresql://user:password@host:port/database&quot;, or &quot;none&quot; to keep nothing (default: SQLite files in %1).</translation>
    </message>
    <message>
        <source>url</source>
        <translation>url</translation>
    </message>
    <message>
        <source>Milliseconds between saves of the changed parts of the world, 100..3600000 (default %1).</source>
        <translation>Milliseconds between saves of the changed parts of the world, 100..3600000 (default %1).</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>--database must be a directory, a postgresql:// URL or &quot;none&quot;, not empty.</source>
        <translation>--database must be a directory, a postgresql:// URL or &quot;none&quot;, not empty.</translation>
    </message>
    <message>
        <source>--database: %1</source>
        <translation>--database: %1</translation>
    </message>
    <message>
        <source>--world &quot;%1&quot; cannot name a saved world: use letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, not starting with &apos;.&apos;.</source>
        <translation>--world &quot;%1&quot; cannot name a saved world: use letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, not starting with &apos;.&apos;.</translation>
    </message>
    <message>
        <source>Compute worker processes that step the world in shared memory, 0..%1; 0 steps it on --threads threads in the server (default: &quot;auto&quot;, %2 for worlds of size 256 and more on this machine, else 0).</source>
        <translation>Compute worker processes that step the world in shared memory, 0..%1; 0 steps it on --threads threads in the server (default: &quot;auto&quot;, %2 for worlds of size 256 and more on this machine, else 0).</translation>
    </message>
    <message>
        <source>How the server and its workers wake each other: futex, eventfd or signal (default: the best this kernel offers).</source>
        <translation>How the server and its workers wake each other: futex, eventfd or signal (default: the best this kernel offers).</translation>
    </message>
    <message>
        <source>method</source>
        <translation>method</translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &quot;%1&quot;.</source>
        <translation>--wakeup must be futex, eventfd or signal, not &quot;%1&quot;.</translation>
    </message>
    <message>
        <source>Milliseconds one step phase of a worker may take before the server kills it and runs the parts it took itself, 10..60000 (default %1).</source>
        <translation>Milliseconds one step phase of a worker may take before the server kills it and runs the parts it took itself, 10..60000 (default %1).</translation>
    </message>
</context>
<context>
    <name>hex::server::SessionManager</name>
    <message>
        <source>This server requires an account: register or log in with a name and password.</source>
        <translation>This server requires an account: register or log in with a name and password.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a valid player name: use 1 to %2 letters, digits, spaces, &apos;-&apos; or &apos;_&apos;.</source>
        <translation>&quot;%1&quot; is not a valid player name: use 1 to %2 letters, digits, spaces, &apos;-&apos; or &apos;_&apos;.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is an account on this server: log in with its password.</source>
        <translation>&quot;%1&quot; is an account on this server: log in with its password.</translation>
    </message>
    <message>
        <source>The world has no room for more players.</source>
        <translation>The world has no room for more players.</translation>
    </message>
    <message>
        <source>The name &quot;%1&quot; is already playing on this server: choose another.</source>
        <translation>The name &quot;%1&quot; is already playing on this server: choose another.</translation>
    </message>
    <message>
        <source>Another client joined as %1.</source>
        <translation>Another client joined as %1.</translation>
    </message>
    <message>
        <source>The server is busy checking passwords: try again in a second.</source>
        <translation>The server is busy checking passwords: try again in a second.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a guest&apos;s name in this world: choose another.</source>
        <translation>&quot;%1&quot; is a guest&apos;s name in this world: choose another.</translation>
    </message>
    <message>
        <source>Wrong name or password.</source>
        <translation>Wrong name or password.</translation>
    </message>
    <message>
        <source>%1 logged in from another client.</source>
        <translation>%1 logged in from another client.</translation>
    </message>
    <message>
        <source>This session has ended: start a new one (POST /api/v1/session, or a Hello without token).</source>
        <translation>This session has ended: start a new one (POST /api/v1/session, or a Hello without token).</translation>
    </message>
    <message>
        <source>Idle for more than %1 seconds.</source>
        <translation>Idle for more than %1 seconds.</translation>
    </message>
    <message>
        <source>The view has a coordinate that is not a number.</source>
        <translation>The view has a coordinate that is not a number.</translation>
    </message>
    <message>
        <source>The view&apos;s radius_degrees is negative.</source>
        <translation>The view&apos;s radius_degrees is negative.</translation>
    </message>
    <message>
        <source>The view&apos;s direction (x, y, z) is zero: say which way the camera looks.</source>
        <translation>The view&apos;s direction (x, y, z) is zero: say which way the camera looks.</translation>
    </message>
    <message>
        <source>There is no action to queue.</source>
        <translation>There is no action to queue.</translation>
    </message>
    <message>
        <source>%1 actions at once is more than the %2 a session may send at once.</source>
        <translation>%1 actions at once is more than the %2 a session may send at once.</translation>
    </message>
    <message>
        <source>Action %1 of %2: %3</source>
        <translation>Action %1 of %2: %3</translation>
    </message>
    <message>
        <source>Action %1 was not queued</source>
        <translation>Action %1 was not queued</translation>
    </message>
    <message>
        <source>None of these %1 actions was queued</source>
        <translation>None of these %1 actions was queued</translation>
    </message>
    <message>
        <source>Too many actions: at most %1 per second, %2 at once. %3; try again in %4 ms.</source>
        <translation>Too many actions: at most %1 per second, %2 at once. %3; try again in %4 ms.</translation>
    </message>
    <message>
        <source>Messages %1 to %2 were dropped because they were not fetched in time; the next message carries the state of every viewed chunk.</source>
        <translation>Messages %1 to %2 were dropped because they were not fetched in time; the next message carries the state of every viewed chunk.</translation>
    </message>
    <message numerus="yes">
        <source>%n older action result(s) were dropped too.</source>
        <translation>
            <numerusform>%n older action result was dropped too.</numerusform>
            <numerusform>%n older action results were dropped too.</numerusform>
        </translation>
    </message>
    <message>
        <source>Messages %1 to %2 are no longer held; the next message carries the state of every viewed chunk.</source>
        <translation>Messages %1 to %2 are no longer held; the next message carries the state of every viewed chunk.</translation>
    </message>
    <message>
        <source>This server needs a password to join.</source>
        <translation>This server needs a password to join.</translation>
    </message>
    <message>
        <source>Wrong server password.</source>
        <translation>Wrong server password.</translation>
    </message>
    <message>
        <source>A chat line has 1 to %1 characters.</source>
        <translation>A chat line has 1 to %1 characters.</translation>
    </message>
    <message>
        <source>Too many chat lines: at most %1 per second, %2 at once.</source>
        <translation>Too many chat lines: at most %1 per second, %2 at once.</translation>
    </message>
    <message>
        <source>The cursor&apos;s cell %1 does not exist: the world has %2 cells.</source>
        <translation>The cursor&apos;s cell %1 does not exist: the world has %2 cells.</translation>
    </message>
    <message>
        <source>Your account is created, but the server cannot save it right now; it will be saved once the database is back. Log in again in a moment.</source>
        <translation>Your account is created, but the server cannot save it right now; it will be saved once the database is back. Log in again in a moment.</translation>
    </message>
    <message>
        <source>The server cannot save actions right now (its database is unreachable and its backlog is full); nothing was queued. Try again later.</source>
        <translation>The server cannot save actions right now (its database is unreachable and its backlog is full); nothing was queued. Try again later.</translation>
    </message>
</context>
<context>
    <name>hex::server::WebSocketTransport</name>
    <message>
        <source>The server is shutting down.</source>
        <translation>The server is shutting down.</translation>
    </message>
    <message>
        <source>The server is full (%1 connections).</source>
        <translation>The server is full (%1 connections).</translation>
    </message>
    <message>
        <source>No Hello within %1 seconds.</source>
        <translation>No Hello within %1 seconds.</translation>
    </message>
    <message>
        <source>Nothing heard for %1 seconds.</source>
        <translation>Nothing heard for %1 seconds.</translation>
    </message>
    <message>
        <source>Text frames are not accepted: send binary protobuf Envelope frames.</source>
        <translation>Text frames are not accepted: send binary protobuf Envelope frames.</translation>
    </message>
    <message>
        <source>Hello was already received.</source>
        <translation>Hello was already received.</translation>
    </message>
    <message>
        <source>Clients may not send this message.</source>
        <translation>Clients may not send this message.</translation>
    </message>
    <message>
        <source>The first message must be Hello.</source>
        <translation>The first message must be Hello.</translation>
    </message>
    <message>
        <source>Protocol version mismatch: the client speaks version %1, the server version %2.</source>
        <translation>Protocol version mismatch: the client speaks version %1, the server version %2.</translation>
    </message>
    <message>
        <source>Protocol version mismatch.</source>
        <translation>Protocol version mismatch.</translation>
    </message>
    <message>
        <source>This session was resumed from another connection.</source>
        <translation>This session was resumed from another connection.</translation>
    </message>
    <message>
        <source>Session resumed elsewhere.</source>
        <translation>Session resumed elsewhere.</translation>
    </message>
</context>
<context>
    <name>hex::server::compute::ComputeGroup</name>
    <message>
        <source>this world already has compute workers</source>
        <translation></translation>
    </message>
    <message>
        <source>the number of compute workers must be 1 to %1, not %2</source>
        <translation></translation>
    </message>
    <message>
        <source>the compute worker %1 is not an executable file</source>
        <translation></translation>
    </message>
    <message>
        <source>the content version &quot;%1&quot; is too long for the shared segment</source>
        <translation></translation>
    </message>
    <message>
        <source>%1 workers with %2 parts each make more than the %3 parts a world can be split into</source>
        <translation></translation>
    </message>
    <message>
        <source>/dev/shm has %1 MiB free; compute workers for this world need about %2 MiB</source>
        <translation></translation>
    </message>
    <message>
        <source>/dev/shm has %1 MiB free, too little to share the planet&apos;s geometry (%2 MiB) with the workers: each builds its own</source>
        <translation></translation>
    </message>
    <message>
        <source>exited before it attached</source>
        <translation></translation>
    </message>
    <message>
        <source>did not attach within %1 ms</source>
        <translation></translation>
    </message>
    <message>
        <source>no compute worker started (%1): %2</source>
        <translation></translation>
    </message>
    <message>
        <source>the compute workers already serve a world</source>
        <translation></translation>
    </message>
    <message>
        <source>this world is not the one the compute workers were made for</source>
        <translation></translation>
    </message>
    <message>
        <source>the world&apos;s arrays do not fit the shared segment</source>
        <translation></translation>
    </message>
    <message>
        <source>the world exists already</source>
        <translation></translation>
    </message>
    <message>
        <source>the shared segment is too small to generate the world in</source>
        <translation></translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation></translation>
    </message>
    <message>
        <source>, exit status %1</source>
        <translation></translation>
    </message>
    <message>
        <source>worker %1: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>worker %1 given up after %2 failures in a row; the server takes parts in its place from now on. Last: %3</source>
        <translation></translation>
    </message>
    <message>
        <source>crashed</source>
        <translation></translation>
    </message>
    <message>
        <source>waking it failed: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>waiting for it failed: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>missed the %1 ms deadline</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::server::compute::Waker</name>
    <message>
        <source>eventfd descriptors %1 and %2 are not open in this process</source>
        <translation></translation>
    </message>
    <message>
        <source>eventfd() failed: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>unknown wake-up method</source>
        <translation></translation>
    </message>
    <message>
        <source>FUTEX_WAKE failed: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>FUTEX_WAIT failed: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>writing to eventfd %1 failed: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>waiting on eventfd %1 failed: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>reading eventfd %1 failed: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>blocking signal %1 failed: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>cannot signal the peer: its process has not registered its thread yet</source>
        <translation></translation>
    </message>
    <message>
        <source>sending signal %1 to process %2 failed: %3</source>
        <translation></translation>
    </message>
    <message>
        <source>sigtimedwait failed: %1</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::server::compute::WorkerProcess</name>
    <message>
        <source>cannot start %1: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>worker exited with status %1 before it was ready: %2</source>
        <translation></translation>
    </message>
    <message>
        <source>worker was not ready after %1 ms</source>
        <translation></translation>
    </message>
    <message>
        <source>worker did not stop within %1 ms; killed</source>
        <translation></translation>
    </message>
</context>
<context>
    <name>hex::server::persistence</name>
    <message>
        <source>%1 is empty.</source>
        <translation>%1 is empty.</translation>
    </message>
    <message>
        <source>%1 has format %2; this program reads format %3.</source>
        <translation>%1 has format %2; this program reads format %3.</translation>
    </message>
    <message>
        <source>%1 is not a valid compressed block.</source>
        <translation>%1 is not a valid compressed block.</translation>
    </message>
    <message>
        <source>%1 claims %2 bytes, more than the %3 it can hold.</source>
        <translation>%1 claims %2 bytes, more than the %3 it can hold.</translation>
    </message>
    <message>
        <source>%1 does not decompress: %2.</source>
        <translation>%1 does not decompress: %2.</translation>
    </message>
    <message>
        <source>%1 is truncated.</source>
        <translation>%1 is truncated.</translation>
    </message>
    <message>
        <source>Chunk %1</source>
        <translation>Chunk %1</translation>
    </message>
    <message>
        <source>%1 does not exist: the world has %2 chunks.</source>
        <translation>%1 does not exist: the world has %2 chunks.</translation>
    </message>
    <message>
        <source>%1 holds %2 bytes; its %3 cells need %4.</source>
        <translation>%1 holds %2 bytes; its %3 cells need %4.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown terrain %3.</source>
        <translation>%1: cell %2 has an unknown terrain %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown resource %3.</source>
        <translation>%1: cell %2 has an unknown resource %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown structure %3.</source>
        <translation>%1: cell %2 has an unknown structure %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has orientation %3; it has %4 sides.</source>
        <translation>%1: cell %2 has orientation %3; it has %4 sides.</translation>
    </message>
    <message>
        <source>The machine state</source>
        <translation>The machine state</translation>
    </message>
    <message>
        <source>%1 is truncated at machine %2 of %3.</source>
        <translation>%1 is truncated at machine %2 of %3.</translation>
    </message>
    <message>
        <source>%1 names cell %2; the world has %3 cells.</source>
        <translation>%1 names cell %2; the world has %3 cells.</translation>
    </message>
    <message>
        <source>%1 lists cell %2 out of order.</source>
        <translation>%1 lists cell %2 out of order.</translation>
    </message>
    <message>
        <source>%1 of cell %2 holds a value out of range.</source>
        <translation>%1 of cell %2 holds a value out of range.</translation>
    </message>
    <message>
        <source>%1 has bytes after its last machine.</source>
        <translation>%1 has bytes after its last machine.</translation>
    </message>
    <message>
        <source>The player list</source>
        <translation>The player list</translation>
    </message>
    <message>
        <source>%1 holds %2 players, more than a world can.</source>
        <translation>%1 holds %2 players, more than a world can.</translation>
    </message>
    <message>
        <source>%1 is truncated at player %2.</source>
        <translation>%1 is truncated at player %2.</translation>
    </message>
    <message>
        <source>%1: player %2 carries zero of item %3.</source>
        <translation>%1: player %2 carries zero of item %3.</translation>
    </message>
    <message>
        <source>%1 has bytes after its last player.</source>
        <translation>%1 has bytes after its last player.</translation>
    </message>
    <message>
        <source>Chunk %1 does not exist: the world has %2 chunks.</source>
        <translation>Chunk %1 does not exist: the world has %2 chunks.</translation>
    </message>
    <message>
        <source>Chunk %1 is missing from the snapshot at tick %2.</source>
        <translation>Chunk %1 is missing from the snapshot at tick %2.</translation>
    </message>
    <message>
        <source>Chunk %1: cell %2 is owned by player %3, who does not exist.</source>
        <translation>Chunk %1: cell %2 is owned by player %3, who does not exist.</translation>
    </message>
    <message>
        <source>Chunk %1: cell %2 %3 but the machine state %4.</source>
        <translation>Chunk %1: cell %2 %3 but the machine state %4.</translation>
    </message>
    <message>
        <source>has a structure</source>
        <translation>has a structure</translation>
    </message>
    <message>
        <source>has no structure</source>
        <translation>has no structure</translation>
    </message>
    <message>
        <source>has no entry for it</source>
        <translation>has no entry for it</translation>
    </message>
    <message>
        <source>has one</source>
        <translation>has one</translation>
    </message>
    <message>
        <source>The event log has an event at tick %1, at or before the snapshot&apos;s tick %2.</source>
        <translation>The event log has an event at tick %1, at or before the snapshot&apos;s tick %2.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: a join after an action.</source>
        <translation>Tick %1, event %2: a join after an action.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: &apos;%3&apos; joined as player %4 in the log but as player %5 in the replay.</source>
        <translation>Tick %1, event %2: &apos;%3&apos; joined as player %4 in the log but as player %5 in the replay.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: the log says %3 but the replay says %4.</source>
        <translation>Tick %1, event %2: the log says %3 but the replay says %4.</translation>
    </message>
    <message>
        <source>The replay was cancelled.</source>
        <translation>The replay was cancelled.</translation>
    </message>
    <message>
        <source>it has size %1, outside 1..%2.</source>
        <translation>it has size %1, outside 1..%2.</translation>
    </message>
    <message>
        <source>its snapshot at tick %1 has state hash %2, not the %3 it was saved with.</source>
        <translation>its snapshot at tick %1 has state hash %2, not the %3 it was saved with.</translation>
    </message>
    <message>
        <source>the replay of its event log failed: %1</source>
        <translation>the replay of its event log failed: %1</translation>
    </message>
    <message>
        <source>replayed to tick %1, its state hash is %2, but the world was saved at tick %3 with hash %4.</source>
        <translation>replayed to tick %1, its state hash is %2, but the world was saved at tick %3 with hash %4.</translation>
    </message>
</context>
<context>
    <name>hex::server::persistence::SqlWorldStore</name>
    <message>
        <source>The database URL &apos;%1&apos; is not valid: %2.</source>
        <translation>The database URL &apos;%1&apos; is not valid: %2.</translation>
    </message>
    <message>
        <source>The database URL &apos;%1&apos; names no database: write postgresql://user:password@host:port/database.</source>
        <translation>The database URL &apos;%1&apos; names no database: write postgresql://user:password@host:port/database.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; names no directory: write sqlite:DIRECTORY.</source>
        <translation>&apos;%1&apos; names no directory: write sqlite:DIRECTORY.</translation>
    </message>
    <message>
        <source>Unknown database &apos;%1&apos;: use sqlite:DIRECTORY, postgresql://user:password@host:port/database or none.</source>
        <translation>Unknown database &apos;%1&apos;: use sqlite:DIRECTORY, postgresql://user:password@host:port/database or none.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is not a valid world name: use 1 to 64 letters, digits, spaces, &apos;-&apos;, &apos;_&apos; or &apos;.&apos;, not starting with &apos;.&apos;.</source>
        <translation>&apos;%1&apos; is not a valid world name: use 1 to 64 letters, digits, spaces, &apos;-&apos;, &apos;_&apos; or &apos;.&apos;, not starting with &apos;.&apos;.</translation>
    </message>
    <message>
        <source>No database is configured (--database none): worlds are not kept.</source>
        <translation>No database is configured (--database none): worlds are not kept.</translation>
    </message>
    <message>
        <source>Cannot create the directory %1 for world files.</source>
        <translation>Cannot create the directory %1 for world files.</translation>
    </message>
    <message>
        <source>%1 holds no world &apos;%2&apos;.</source>
        <translation>%1 holds no world &apos;%2&apos;.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is not a valid world name.</source>
        <translation>&apos;%1&apos; is not a valid world name.</translation>
    </message>
    <message>
        <source>A world cannot be branched onto itself.</source>
        <translation>A world cannot be branched onto itself.</translation>
    </message>
    <message>
        <source>No database is configured: there are no worlds.</source>
        <translation>No database is configured: there are no worlds.</translation>
    </message>
    <message>
        <source>There is no world &apos;%1&apos; in %2.</source>
        <translation>There is no world &apos;%1&apos; in %2.</translation>
    </message>
    <message>
        <source>A world &apos;%1&apos; exists already (%2).</source>
        <translation>A world &apos;%1&apos; exists already (%2).</translation>
    </message>
    <message>
        <source>Cannot create %1.</source>
        <translation>Cannot create %1.</translation>
    </message>
    <message>
        <source>Cannot delete %1.</source>
        <translation>Cannot delete %1.</translation>
    </message>
    <message>
        <source>cannot switch to write-ahead logging</source>
        <translation>cannot switch to write-ahead logging</translation>
    </message>
    <message>
        <source>cannot set up</source>
        <translation>cannot set up</translation>
    </message>
    <message>
        <source>%1: the Qt Sql driver %2 is not installed.</source>
        <translation>%1: the Qt Sql driver %2 is not installed.</translation>
    </message>
    <message>
        <source>cannot open the database</source>
        <translation>cannot open the database</translation>
    </message>
    <message>
        <source>%1 is damaged: %2.</source>
        <translation>%1 is damaged: %2.</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: %2.</source>
        <translation>%1 is not a Hexsphere world: %2.</translation>
    </message>
    <message>
        <source>cannot read the schema</source>
        <translation>cannot read the schema</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: it holds other tables (%2) and no schema_migrations.</source>
        <translation>%1 is not a Hexsphere world: it holds other tables (%2) and no schema_migrations.</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: its schema_migrations table is not ours (%2).</source>
        <translation>%1 is not a Hexsphere world: its schema_migrations table is not ours (%2).</translation>
    </message>
    <message>
        <source>%1 has schema version %2; this hexsphere-server knows up to %3. Use a newer hexsphere-server.</source>
        <translation>%1 has schema version %2; this hexsphere-server knows up to %3. Use a newer hexsphere-server.</translation>
    </message>
    <message>
        <source>%1: cannot read the migration %2.</source>
        <translation>%1: cannot read the migration %2.</translation>
    </message>
    <message>
        <source>cannot apply migration %1_%2</source>
        <translation>cannot apply migration %1_%2</translation>
    </message>
    <message>
        <source>cannot look up the world</source>
        <translation>cannot look up the world</translation>
    </message>
    <message>
        <source>%1: %2: the connection to the database is lost.</source>
        <translation>%1: %2: the connection to the database is lost.</translation>
    </message>
    <message>
        <source>%1: %2: there is no world &apos;%3&apos;.</source>
        <translation>%1: %2: there is no world &apos;%3&apos;.</translation>
    </message>
    <message>
        <source>%1: %2: %3</source>
        <translation>%1: %2: %3</translation>
    </message>
    <message>
        <source>%1: the connection to the database is lost.</source>
        <translation>%1: the connection to the database is lost.</translation>
    </message>
    <message>
        <source>cannot prepare a statement</source>
        <translation>cannot prepare a statement</translation>
    </message>
    <message>
        <source>%1: this store is for the world &apos;%2&apos;, not &apos;%3&apos;.</source>
        <translation>%1: this store is for the world &apos;%2&apos;, not &apos;%3&apos;.</translation>
    </message>
    <message>
        <source>%1: cannot create a world: the store is read-only.</source>
        <translation>%1: cannot create a world: the store is read-only.</translation>
    </message>
    <message>
        <source>cannot create the world &apos;%1&apos;</source>
        <translation>cannot create the world &apos;%1&apos;</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; exists already.</source>
        <translation>%1: the world &apos;%2&apos; exists already.</translation>
    </message>
    <message>
        <source>%1: %2.</source>
        <translation>%1: %2.</translation>
    </message>
    <message>
        <source>cannot read the world</source>
        <translation>cannot read the world</translation>
    </message>
    <message>
        <source>%1: there is no world &apos;%2&apos;.</source>
        <translation>%1: there is no world &apos;%2&apos;.</translation>
    </message>
    <message>
        <source>cannot write chunks</source>
        <translation>cannot write chunks</translation>
    </message>
    <message>
        <source>cannot commit the snapshot of tick %1</source>
        <translation>cannot commit the snapshot of tick %1</translation>
    </message>
    <message>
        <source>cannot append the events of ticks %1..%2</source>
        <translation>cannot append the events of ticks %1..%2</translation>
    </message>
    <message>
        <source>cannot save players</source>
        <translation>cannot save players</translation>
    </message>
    <message>
        <source>cannot read the player &apos;%1&apos;</source>
        <translation>cannot read the player &apos;%1&apos;</translation>
    </message>
    <message>
        <source>cannot read the players</source>
        <translation>cannot read the players</translation>
    </message>
    <message>
        <source>cannot read the token key</source>
        <translation>cannot read the token key</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; has no token key yet.</source>
        <translation>%1: the world &apos;%2&apos; has no token key yet.</translation>
    </message>
    <message>
        <source>cannot read the events</source>
        <translation>cannot read the events</translation>
    </message>
    <message>
        <source>cannot load the world &apos;%1&apos;</source>
        <translation>cannot load the world &apos;%1&apos;</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; has no complete snapshot.</source>
        <translation>%1: the world &apos;%2&apos; has no complete snapshot.</translation>
    </message>
    <message>
        <source>cannot list the worlds</source>
        <translation>cannot list the worlds</translation>
    </message>
    <message>
        <source>cannot copy the world to %1</source>
        <translation>cannot copy the world to %1</translation>
    </message>
    <message>
        <source>%1: %2: the database is not open.</source>
        <translation>%1: %2: the database is not open.</translation>
    </message>
    <message>
        <source>cannot rename the world to &apos;%1&apos;</source>
        <translation>cannot rename the world to &apos;%1&apos;</translation>
    </message>
    <message>
        <source>cannot branch the world &apos;%1&apos; to &apos;%2&apos;</source>
        <translation>cannot branch the world &apos;%1&apos; to &apos;%2&apos;</translation>
    </message>
    <message>
        <source>A world &apos;%1&apos; exists already in %2.</source>
        <translation>A world &apos;%1&apos; exists already in %2.</translation>
    </message>
    <message>
        <source>cannot delete the world &apos;%1&apos;</source>
        <translation>cannot delete the world &apos;%1&apos;</translation>
    </message>
</context>
<context>
    <name>hex::server::persistence::WriteBehind</name>
    <message>
        <source>The write-behind is running already.</source>
        <translation>The write-behind is running already.</translation>
    </message>
    <message>
        <source>The store does not open.</source>
        <translation>The store does not open.</translation>
    </message>
    <message>
        <source>The store did not take everything in %1 ms: %2 ticks (%3 events) after tick %4 are not saved.</source>
        <translation>The store did not take everything in %1 ms: %2 ticks (%3 events) after tick %4 are not saved.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message numerus="yes">
        <source>Starting a server for a world of %n cells…</source>
        <translation>
            <numerusform>Starting a server for a world of %n cell…</numerusform>
            <numerusform>Starting a server for a world of %n cells…</numerusform>
        </translation>
    </message>
    <message>
        <source>Hexsphere</source>
        <translation></translation>
    </message>
    <message>
        <source>Try --help.</source>
        <translation></translation>
    </message>
    <message>
        <source>Could not start the server: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>Show this help and exit.</source>
        <translation></translation>
    </message>
    <message>
        <source>Hexsphere: build factories on a living hexagonal planet. Without --host or --connect, opens the Start screen.</source>
        <translation>Hexsphere: build factories on a living hexagonal planet. Without --host or --connect, opens the Start screen.</translation>
    </message>
    <message>
        <source>Could not save the screenshot to %1.</source>
        <translation>Could not save the screenshot to %1.</translation>
    </message>
    <message>
        <source>Lists, branches, deletes and fast-forwards the worlds a server keeps.</source>
        <translation></translation>
    </message>
    <message>
        <source>Where worlds are kept: a directory of SQLite files (&quot;sqlite:DIR&quot; or a path) or &quot;postgresql://user:password@host:port/database&quot; (default: SQLite files in %1).</source>
        <translation></translation>
    </message>
    <message>
        <source>url</source>
        <translation></translation>
    </message>
    <message>
        <source>Lists every world.</source>
        <translation></translation>
    </message>
    <message>
        <source>Copies the world SOURCE to a new world TARGET.</source>
        <translation></translation>
    </message>
    <message>
        <source>Deletes the world NAME and everything in it.</source>
        <translation></translation>
    </message>
    <message>
        <source>Runs TICKS ticks (1..%1) of the world NAME with no player actions, through the compute workers, and saves the result. The world must not be open in a running server. Ctrl-C stops at the next tick and saves what ran.</source>
        <translation></translation>
    </message>
    <message>
        <source>simulate: compute worker processes, 0..%1; 0 simulates on %2 threads in this process (default: &quot;auto&quot;, as the server: %3 for worlds of size %4 and more, else 0).</source>
        <translation></translation>
    </message>
    <message>
        <source>count</source>
        <translation></translation>
    </message>
    <message>
        <source>simulate: how this process and its workers wake each other: futex, eventfd or signal (default: the best this kernel offers).</source>
        <translation></translation>
    </message>
    <message>
        <source>method</source>
        <translation></translation>
    </message>
    <message>
        <source>Usage: hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS [--workers N] [--wakeup M] [--database URL]</source>
        <translation></translation>
    </message>
    <message>
        <source>TICKS must be a whole number from 1 to %1, not &apos;%2&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>Usage: hexsphere-server world [options] list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS</source>
        <translation></translation>
    </message>
    <message>
        <source>Say what to do with the worlds.</source>
        <translation></translation>
    </message>
    <message>
        <source>--database: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>--database none keeps no worlds.</source>
        <translation></translation>
    </message>
    <message>
        <source>--workers and --wakeup are for &apos;simulate&apos; only.</source>
        <translation></translation>
    </message>
    <message>
        <source>&apos;simulate&apos; takes the NAME of one world and a number of TICKS.</source>
        <translation></translation>
    </message>
    <message>
        <source>--workers must be &quot;auto&quot; or 0..%1, not &apos;%2&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &apos;%1&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>&apos;list&apos; takes no arguments.</source>
        <translation></translation>
    </message>
    <message>
        <source>No worlds in %1.</source>
        <translation></translation>
    </message>
    <message>
        <source>NAME</source>
        <translation></translation>
    </message>
    <message>
        <source>SIZE n</source>
        <translation></translation>
    </message>
    <message>
        <source>SEED</source>
        <translation></translation>
    </message>
    <message>
        <source>TICK</source>
        <translation></translation>
    </message>
    <message>
        <source>PLAYERS</source>
        <translation></translation>
    </message>
    <message>
        <source>UPDATED</source>
        <translation></translation>
    </message>
    <message>
        <source>ON DISK</source>
        <translation></translation>
    </message>
    <message>
        <source>Cannot read: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>&apos;branch&apos; takes a SOURCE and a TARGET world.</source>
        <translation></translation>
    </message>
    <message>
        <source>Branched &apos;%1&apos; to &apos;%2&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>&apos;delete&apos; takes the NAME of one world.</source>
        <translation></translation>
    </message>
    <message>
        <source>Deleted the world &apos;%1&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>Unknown command &apos;%1&apos;.</source>
        <translation></translation>
    </message>
    <message>
        <source>Hexsphere dedicated server: ticks a world and serves it over WebSocket.
Saved worlds: hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS (see hexsphere-server world --help).</source>
        <translation></translation>
    </message>
    <message>
        <source>signal %1 received, stopping</source>
        <translation></translation>
    </message>
    <message>
        <source>Hexsphere compute worker. hexsphere-server starts it; it is not run by hand.</source>
        <translation></translation>
    </message>
    <message>
        <source>Language of messages: en or fr (default: the system&apos;s, else en).</source>
        <translation></translation>
    </message>
    <message>
        <source>--lang must be en or fr, not &quot;%1&quot;.</source>
        <translation></translation>
    </message>
    <message>
        <source>the server process %1 is gone; exiting</source>
        <translation></translation>
    </message>
    <message>
        <source>%1 bulk jobs are more than the ring holds</source>
        <translation></translation>
    </message>
    <message>
        <source>bulk job kind %1 does not exist</source>
        <translation></translation>
    </message>
    <message>
        <source>a bulk job reads or writes outside the %1-byte segment</source>
        <translation></translation>
    </message>
    <message>
        <source>bulk job %1 covers cells %2..%3 of %4</source>
        <translation></translation>
    </message>
    <message>
        <source>the game content does not load: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>the server steps content version &quot;%1&quot;, this worker has content version &quot;%2&quot;</source>
        <translation></translation>
    </message>
    <message>
        <source>the segment&apos;s world is inconsistent: %1 subdivisions but %2 cells</source>
        <translation></translation>
    </message>
    <message>
        <source>the segment&apos;s chunk split %1 does not fit %2 subdivisions</source>
        <translation></translation>
    </message>
    <message>
        <source>the world is split into %1 parts; a worker takes 1 to %2</source>
        <translation></translation>
    </message>
    <message>
        <source>the segment&apos;s sphere does not fit its world: %1</source>
        <translation></translation>
    </message>
    <message>
        <source>the server&apos;s part %1 starts at cell %2, this worker&apos;s at cell %3: different programs</source>
        <translation></translation>
    </message>
    <message>
        <source>the server&apos;s exchange for %1 parts is %2 bytes, this worker&apos;s would be %3 bytes: different programs</source>
        <translation></translation>
    </message>
    <message>
        <source>job %1 asks for phase %2, which does not exist</source>
        <translation></translation>
    </message>
    <message>
        <source>job %1 puts array %2 at bytes %3..%4, outside the %5-byte segment</source>
        <translation></translation>
    </message>
    <message>
        <source>job %1&apos;s exchange is not aligned to 64 bytes</source>
        <translation></translation>
    </message>
    <message>
        <source>Shared-memory segment to attach to.</source>
        <translation></translation>
    </message>
    <message>
        <source>name</source>
        <translation></translation>
    </message>
    <message>
        <source>Ping mode: attach to the segment and answer every wake-up with one back until the slot is told to stop.</source>
        <translation></translation>
    </message>
    <message>
        <source>segment</source>
        <translation></translation>
    </message>
    <message>
        <source>Worker slot in the segment (0 to %1).</source>
        <translation></translation>
    </message>
    <message>
        <source>n</source>
        <translation></translation>
    </message>
    <message>
        <source>Wake-up method: futex, eventfd or signal.</source>
        <translation></translation>
    </message>
    <message>
        <source>Inherited eventfd the server wakes us on.</source>
        <translation></translation>
    </message>
    <message>
        <source>fd</source>
        <translation></translation>
    </message>
    <message>
        <source>Inherited eventfd we wake the server on.</source>
        <translation></translation>
    </message>
    <message>
        <source>Futex only: microseconds to spin before sleeping.</source>
        <translation></translation>
    </message>
    <message>
        <source>us</source>
        <translation></translation>
    </message>
    <message>
        <source>Step mode: attach to the segment and run the parts it takes of every automaton phase the server asks for, until the slot is told to stop.</source>
        <translation></translation>
    </message>
    <message>
        <source>Language of messages: en or fr.</source>
        <translation></translation>
    </message>
    <message>
        <source>code</source>
        <translation></translation>
    </message>
    <message>
        <source>workers are started by hexsphere-server with either --step or --ping and a segment name.</source>
        <translation></translation>
    </message>
    <message>
        <source>--slot must be a number from 0 to %1, not &quot;%2&quot;</source>
        <translation></translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &quot;%1&quot;</source>
        <translation></translation>
    </message>
    <message>
        <source>--spin-us must be a number from 0 to 1000000, not &quot;%1&quot;</source>
        <translation></translation>
    </message>
    <message>
        <source>--wakeup eventfd needs --eventfd-in and --eventfd-out descriptors</source>
        <translation></translation>
    </message>
    <message>
        <source>job %1 hands out part %2 of a world of %3 parts</source>
        <translation></translation>
    </message>
</context>
</TS>
