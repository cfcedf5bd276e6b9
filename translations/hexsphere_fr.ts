<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>QCommandLineParser</name>
    <message>
        <source>Displays help on commandline options.</source>
        <translation>Afficher l’aide sur les options de la ligne de commande.</translation>
    </message>
    <message>
        <source>Displays help including Qt specific options.</source>
        <translation>Afficher l’aide, options propres à Qt comprises.</translation>
    </message>
</context>
<context>
    <name>hex::client::BuildDock</name>
    <message>
        <source>Build</source>
        <translation>Construire</translation>
    </message>
    <message>
        <source>Claim</source>
        <translation>Revendiquer</translation>
    </message>
    <message>
        <source>Take an unowned cell: anywhere at first, then next to your cells.</source>
        <translation>Prendre une cellule libre&#xa0;: n’importe où la première fois, puis à côté de vos cellules.</translation>
    </message>
    <message>
        <source>Build on a cell you own. R turns it; Escape puts the tool away.</source>
        <translation>Construire sur une cellule à vous. R la tourne&#xa0;; Échap range l’outil.</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Démolir</translation>
    </message>
    <message>
        <source>Remove the structure on a cell you own: its cost and items come back.</source>
        <translation>Démolir la structure d’une cellule à vous&#xa0;: son coût et ses objets vous reviennent.</translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation>%1 × %2</translation>
    </message>
    <message>
        <source>%1
free</source>
        <translation>%1
gratuit</translation>
    </message>
    <message>
        <source>%1
cost: %2</source>
        <translation>%1
coût&#xa0;: %2</translation>
    </message>
</context>
<context>
    <name>hex::client::ChatDock</name>
    <message>
        <source>Chat</source>
        <translation>Discussion</translation>
    </message>
    <message>
        <source>No messages yet.</source>
        <translation>Aucun message pour l’instant.</translation>
    </message>
    <message>
        <source>Say something (T)</source>
        <translation>Dites quelque chose (T)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <source>[%1] %2: %3</source>
        <translation>[%1] %2&#xa0;: %3</translation>
    </message>
</context>
<context>
    <name>hex::client::ClientOptions</name>
    <message>
        <source>Player</source>
        <translation>Joueur</translation>
    </message>
    <message>
        <source>Join the server at this address, for instance ws://example.org:7357.</source>
        <translation>Rejoindre le serveur à cette adresse, par exemple ws://example.org:7357.</translation>
    </message>
    <message>
        <source>url</source>
        <translation>adresse</translation>
    </message>
    <message>
        <source>When hosting, accept players from the local network (listen on all interfaces instead of this computer only).</source>
        <translation>En hébergeant, accepter les joueurs du réseau local (écouter sur toutes les interfaces au lieu de cet ordinateur seul).</translation>
    </message>
    <message>
        <source>Your player name (default: your user name).</source>
        <translation>Votre nom de joueur (par défaut&#xa0;: votre nom d’utilisateur).</translation>
    </message>
    <message>
        <source>name</source>
        <translation>nom</translation>
    </message>
    <message>
        <source>Language of the interface: en or fr (default: the system&apos;s, else en).</source>
        <translation>Langue de l’interface&#xa0;: en ou fr (par défaut&#xa0;: celle du système, sinon en).</translation>
    </message>
    <message>
        <source>code</source>
        <translation>langue</translation>
    </message>
    <message>
        <source>Save a PNG picture of the window to this file, then quit. Needs --quit-after.</source>
        <translation>Enregistrer une image PNG de la fenêtre dans ce fichier, puis quitter. Nécessite --quit-after.</translation>
    </message>
    <message>
        <source>file</source>
        <translation>fichier</translation>
    </message>
    <message>
        <source>Quit this many seconds after start (fractions allowed), after taking the screenshot if one was asked for.</source>
        <translation>Quitter ce nombre de secondes après le démarrage (décimales permises), après la capture d’écran si elle a été demandée.</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>secondes</translation>
    </message>
    <message>
        <source>Unexpected argument &quot;%1&quot;.</source>
        <translation>Argument inattendu «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--host and --connect exclude each other: choose one.</source>
        <translation>--host et --connect s’excluent&#xa0;: choisissez l’un des deux.</translation>
    </message>
    <message>
        <source>--connect needs a ws:// or wss:// address such as ws://example.org:7357, not &quot;%1&quot;.</source>
        <translation>--connect attend une adresse ws:// ou wss:// comme ws://example.org:7357, et non «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--name must be 1 to 32 characters.</source>
        <translation>--name doit compter de 1 à 32 caractères.</translation>
    </message>
    <message>
        <source>--lang must be en or fr, not &quot;%1&quot;.</source>
        <translation>--lang doit valoir en ou fr, et non «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--quit-after must be a number of seconds above 0, not &quot;%1&quot;.</source>
        <translation>--quit-after attend un nombre de secondes supérieur à 0, et non «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--screenshot needs a file name.</source>
        <translation>--screenshot attend un nom de fichier.</translation>
    </message>
    <message>
        <source>--screenshot needs --quit-after to say when to take it.</source>
        <translation>--screenshot nécessite --quit-after pour savoir quand prendre la capture.</translation>
    </message>
    <message>
        <source>Host a game: start a server in this process and join it. Without --host or --connect, the Start screen opens.</source>
        <translation>Héberger une partie&#xa0;: lancer un serveur dans ce processus et le rejoindre. Sans --host ni --connect, l’écran d’accueil s’ouvre.</translation>
    </message>
</context>
<context>
    <name>hex::client::DisplayCheck</name>
    <message>
        <source>hexsphere: no display found; to run a dedicated server use ./run.sh --server (or hexsphere-server --help)</source>
        <translation>hexsphere&#xa0;: aucun affichage trouvé&#xa0;; pour lancer un serveur dédié, utilisez ./run.sh --server (ou hexsphere-server --help)</translation>
    </message>
</context>
<context>
    <name>hex::client::HostDialog</name>
    <message>
        <source>Host a game</source>
        <translation>Héberger une partie</translation>
    </message>
    <message>
        <source>World</source>
        <translation>Monde</translation>
    </message>
    <message>
        <source>New world</source>
        <translation>Nouveau monde</translation>
    </message>
    <message>
        <source>The same seed and size always give the same planet.</source>
        <translation>La même graine et la même taille donnent toujours la même planète.</translation>
    </message>
    <message>
        <source> updates/s</source>
        <translation> mises à jour/s</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>&amp;Nom&#xa0;:</translation>
    </message>
    <message>
        <source>S&amp;eed:</source>
        <translation>&amp;Graine&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Size:</source>
        <translation>&amp;Taille&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Speed:</source>
        <translation>&amp;Vitesse&#xa0;:</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Réseau</translation>
    </message>
    <message>
        <source>any free port</source>
        <translation>n’importe quel port libre</translation>
    </message>
    <message>
        <source>Visible on the local network</source>
        <translation>Visible sur le réseau local</translation>
    </message>
    <message>
        <source>Players on your network see the game in their server list and can join it. Otherwise only this computer can.</source>
        <translation>Les joueurs de votre réseau voient la partie dans leur liste de serveurs et peuvent la rejoindre. Sinon, seul cet ordinateur le peut.</translation>
    </message>
    <message>
        <source>none</source>
        <translation>aucun</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>&amp;Port&#xa0;:</translation>
    </message>
    <message>
        <source>Pass&amp;word:</source>
        <translation>Mot de &amp;passe&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Host</source>
        <translation>&amp;Héberger</translation>
    </message>
    <message>
        <source>The world name must be 1 to %1 characters.</source>
        <translation>Le nom du monde doit compter de 1 à %1 caractères.</translation>
    </message>
    <message>
        <source>The seed must be a whole number from 0 to 18446744073709551615.</source>
        <translation>La graine doit être un nombre entier de 0 à 18446744073709551615.</translation>
    </message>
    <message>
        <source>The port must be 0 (any free port) or 1024 to 65535.</source>
        <translation>Le port doit être 0 (n’importe quel port libre) ou compris entre 1024 et 65535.</translation>
    </message>
    <message>
        <source>%1 cells</source>
        <translation>%1 cellules</translation>
    </message>
    <message>
        <source>Continue a saved world</source>
        <translation>Continuer un monde sauvegardé</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Taille</translation>
    </message>
    <message>
        <source>Played</source>
        <translation>Joué</translation>
    </message>
    <message>
        <source>Players</source>
        <translation>Joueurs</translation>
    </message>
    <message>
        <source>Last played</source>
        <translation>Dernière partie</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <comment>a world name and a number</comment>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source>This game keeps no worlds.</source>
        <translation>Ce jeu ne conserve aucun monde.</translation>
    </message>
    <message>
        <source>n=%1 (%2 cells)</source>
        <translation>n=%1 (%2 cellules)</translation>
    </message>
    <message>
        <source>%1 ticks</source>
        <translation>%1 ticks</translation>
    </message>
    <message>
        <source>Seed %1, saved in %2</source>
        <translation>Graine %1, sauvegardé dans %2</translation>
    </message>
    <message>
        <source>cannot be opened</source>
        <translation>impossible à ouvrir</translation>
    </message>
    <message>
        <source>No saved worlds yet in %1.</source>
        <translation>Aucun monde sauvegardé pour l’instant dans %1.</translation>
    </message>
    <message>
        <source>The saved worlds cannot be listed: %1</source>
        <translation>Impossible de lister les mondes sauvegardés : %1</translation>
    </message>
    <message>
        <source>Choose the saved world to continue.</source>
        <translation>Choisissez le monde sauvegardé à continuer.</translation>
    </message>
    <message>
        <source>The world name may hold letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, and may not start with &apos;.&apos;.</source>
        <translation>Le nom du monde peut contenir des lettres, des chiffres, des espaces, « - », « _ » et « . », et ne peut pas commencer par « . ».</translation>
    </message>
    <message>
        <source>A saved world is called %1 already: continue it, or choose another name.</source>
        <translation>Un monde sauvegardé s’appelle déjà %1 : continuez-le, ou choisissez un autre nom.</translation>
    </message>
</context>
<context>
    <name>hex::client::InventoryDock</name>
    <message>
        <source>Inventory</source>
        <translation>Inventaire</translation>
    </message>
    <message>
        <source>Item</source>
        <translation>Objet</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <source>Item %1</source>
        <translation>Objet %1</translation>
    </message>
</context>
<context>
    <name>hex::client::JoinDialog</name>
    <message>
        <source>Join a game</source>
        <translation>Rejoindre une partie</translation>
    </message>
    <message>
        <source>Games on your local network:</source>
        <translation>Parties sur votre réseau local&#xa0;:</translation>
    </message>
    <message>
        <source>host, host:port or ws://host:port/ws</source>
        <translation>hôte, hôte:port ou ws://hôte:port/ws</translation>
    </message>
    <message>
        <source>empty: play as a guest</source>
        <translation>vide&#xa0;: jouer en invité</translation>
    </message>
    <message>
        <source>only if the server asks for one</source>
        <translation>seulement si le serveur en demande un</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>&amp;Adresse&#xa0;:</translation>
    </message>
    <message>
        <source>Your &amp;name:</source>
        <translation>Votre &amp;nom&#xa0;:</translation>
    </message>
    <message>
        <source>Account pass&amp;word:</source>
        <translation>Mot de passe du co&amp;mpte&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Server password:</source>
        <translation>Mot de passe du &amp;serveur&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Join</source>
        <translation>&amp;Rejoindre</translation>
    </message>
    <message>
        <source>Choose a server in the list or type its address.</source>
        <translation>Choisissez un serveur dans la liste ou tapez son adresse.</translation>
    </message>
    <message>
        <source>A server address is host, host:port or a ws:// or wss:// URL, not “%1”.</source>
        <translation>Une adresse de serveur est hôte, hôte:port ou une URL ws:// ou wss://, pas «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>The port in “%1” must be 1 to 65535.</source>
        <translation>Le port dans «&#xa0;%1&#xa0;» doit être compris entre 1 et 65535.</translation>
    </message>
    <message>
        <source>Your name must be 1 to %1 characters.</source>
        <translation>Votre nom doit compter de 1 à %1 caractères.</translation>
    </message>
</context>
<context>
    <name>hex::client::MachineTracks</name>
    <message>
        <source>Machines came for chunk %1, which the world does not have.</source>
        <translation>Des machines sont arrivées pour le bloc %1, que le monde n’a pas.</translation>
    </message>
    <message>
        <source>A machine of chunk %1 was removed from cell %2, outside it.</source>
        <translation>Une machine du bloc %1 a été retirée de la cellule %2, hors de ce bloc.</translation>
    </message>
    <message>
        <source>A machine of chunk %1 stands on cell %2, outside it.</source>
        <translation>Une machine du bloc %1 se trouve sur la cellule %2, hors de ce bloc.</translation>
    </message>
    <message>
        <source>The belt on cell %1 lists %2 items but %3 positions.</source>
        <translation>Le tapis de la cellule %1 indique %2 objets mais %3 positions.</translation>
    </message>
</context>
<context>
    <name>hex::client::MainWindow</name>
    <message>
        <source>Hexsphere</source>
        <translation>Hexsphere</translation>
    </message>
    <message>
        <source>&amp;Game</source>
        <translation>&amp;Partie</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Déconnecté</translation>
    </message>
    <message>
        <source>Disconnected: %1</source>
        <translation>Déconnecté&#xa0;: %1</translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation>Connexion à %1…</translation>
    </message>
    <message>
        <source>Joining the game at %1…</source>
        <translation>Entrée dans la partie sur %1…</translation>
    </message>
    <message>
        <source>Connected to %1, world “%2”</source>
        <translation>Connecté à %1, monde «&#xa0;%2&#xa0;»</translation>
    </message>
    <message>
        <source>Hexsphere — %1</source>
        <translation>Hexsphere — %1</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Erreur&#xa0;: %1</translation>
    </message>
    <message>
        <source>FPS: %1  UPS: %2  Tick: %3  Cells: %4</source>
        <translation>IPS&#xa0;: %1  MàJ/s&#xa0;: %2  Tick&#xa0;: %3  Cellules&#xa0;: %4</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>Cell %1</source>
        <translation>Cellule %1</translation>
    </message>
    <message>
        <source>deep water</source>
        <translation>eau profonde</translation>
    </message>
    <message>
        <source>shallow water</source>
        <translation>eau peu profonde</translation>
    </message>
    <message>
        <source>sand</source>
        <translation>sable</translation>
    </message>
    <message>
        <source>grassland</source>
        <translation>prairie</translation>
    </message>
    <message>
        <source>forest</source>
        <translation>forêt</translation>
    </message>
    <message>
        <source>desert</source>
        <translation>désert</translation>
    </message>
    <message>
        <source>rock</source>
        <translation>roche</translation>
    </message>
    <message>
        <source>snow</source>
        <translation>neige</translation>
    </message>
    <message>
        <source>terrain %1</source>
        <translation>terrain %1</translation>
    </message>
    <message>
        <source>resource: %1</source>
        <translation>ressource&#xa0;: %1</translation>
    </message>
    <message>
        <source>flora %1</source>
        <translation>flore %1</translation>
    </message>
    <message>
        <source>water %1</source>
        <translation>eau %1</translation>
    </message>
    <message>
        <source>pollution %1</source>
        <translation>pollution %1</translation>
    </message>
    <message>
        <source>unclaimed</source>
        <translation>libre</translation>
    </message>
    <message>
        <source>owner: you</source>
        <translation>propriétaire&#xa0;: vous</translation>
    </message>
    <message>
        <source>owner: player %1</source>
        <translation>propriétaire&#xa0;: joueur %1</translation>
    </message>
    <message>
        <source>structure: %1</source>
        <translation>structure&#xa0;: %1</translation>
    </message>
    <message>
        <source>Claim</source>
        <translation>Revendication</translation>
    </message>
    <message>
        <source>Build %1</source>
        <translation>Construction&#xa0;: %1</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Démolition</translation>
    </message>
    <message>
        <source>Nothing stands on cell %1 to rotate.</source>
        <translation>Rien ne se dresse sur la cellule %1 à tourner.</translation>
    </message>
    <message>
        <source>Rotate</source>
        <translation>Rotation</translation>
    </message>
    <message>
        <source>Not connected: “%1” was not sent.</source>
        <translation>Non connecté&#xa0;: «&#xa0;%1&#xa0;» n’a pas été envoyé.</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>%1 on cell %2: done.</source>
        <translation>%1 sur la cellule %2&#xa0;: fait.</translation>
    </message>
    <message>
        <source>%1 on cell %2 refused: %3</source>
        <translation>%1 sur la cellule %2 refusée&#xa0;: %3</translation>
    </message>
    <message>
        <source>Game menu</source>
        <translation>Menu du jeu</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>&amp;Reprendre</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Paramètres…</translation>
    </message>
    <message>
        <source>&amp;Leave game</source>
        <translation>&amp;Quitter la partie</translation>
    </message>
    <message>
        <source>Say in c&amp;hat</source>
        <translation>&amp;Parler dans la discussion</translation>
    </message>
    <message>
        <source>Refused: %1</source>
        <translation>Refusé&#xa0;: %1</translation>
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
        <translation>%1&#xa0;ms</translation>
    </message>
    <message>
        <source>/s</source>
        <translation>/s</translation>
    </message>
    <message>
        <source>FPS</source>
        <translation>IPS</translation>
    </message>
    <message>
        <source>UPS</source>
        <translation>MàJ/s</translation>
    </message>
    <message>
        <source>Ping</source>
        <translation>Ping</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Reçu</translation>
    </message>
    <message>
        <source>%1 %2 (max %3)</source>
        <translation>%1 %2 (max. %3)</translation>
    </message>
</context>
<context>
    <name>hex::client::NetGraphDock</name>
    <message>
        <source>Net graph</source>
        <translation>Graphe réseau</translation>
    </message>
</context>
<context>
    <name>hex::client::PlayersDock</name>
    <message>
        <source>Players</source>
        <translation>Joueurs</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Nom</translation>
    </message>
    <message>
        <source>State</source>
        <translation>État</translation>
    </message>
    <message>
        <source>Cells</source>
        <translation>Cellules</translation>
    </message>
    <message>
        <source>Players: %1 online of %2</source>
        <translation>Joueurs&#xa0;: %1 en ligne sur %2</translation>
    </message>
    <message>
        <source>online</source>
        <translation>en ligne</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>hors ligne</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Vous</translation>
    </message>
</context>
<context>
    <name>hex::client::RecipeDock</name>
    <message>
        <source>Recipe</source>
        <translation>Recette</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Aucune</translation>
    </message>
    <message>
        <source>Set recipe %1</source>
        <translation>Choisir la recette %1</translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation>%1 × %2</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1&#xa0;s</translation>
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
        <translation>Aucune machine sélectionnée</translation>
    </message>
    <message>
        <source>Click one of your furnaces or assemblers with no build tool to choose what it makes.</source>
        <translation>Cliquez sur l’un de vos fours ou assembleurs, sans outil de construction, pour choisir ce qu’il fabrique.</translation>
    </message>
    <message>
        <source>%1 on cell %2</source>
        <translation>%1 sur la cellule %2</translation>
    </message>
    <message>
        <source>None
stop making anything</source>
        <translation>Aucune
ne plus rien fabriquer</translation>
    </message>
    <message>
        <source>Current recipe unknown: the server does not send it.</source>
        <translation>Recette actuelle inconnue&#xa0;: le serveur ne l’envoie pas.</translation>
    </message>
    <message>
        <source>Current recipe: none</source>
        <translation>Recette actuelle&#xa0;: aucune</translation>
    </message>
    <message>
        <source>Current recipe: %1</source>
        <translation>Recette actuelle&#xa0;: %1</translation>
    </message>
</context>
<context>
    <name>hex::client::ServerConnection</name>
    <message>
        <source>The server sent a text frame; Hexsphere servers send binary frames only.</source>
        <translation>Le serveur a envoyé une trame texte&#xa0;; les serveurs Hexsphere n’envoient que des trames binaires.</translation>
    </message>
    <message>
        <source>The server closed the connection.</source>
        <translation>Le serveur a fermé la connexion.</translation>
    </message>
    <message>
        <source>The server closed the connection: %1</source>
        <translation>Le serveur a fermé la connexion&#xa0;: %1</translation>
    </message>
    <message>
        <source>Connection to %1 failed: %2</source>
        <translation>La connexion à %1 a échoué&#xa0;: %2</translation>
    </message>
    <message>
        <source>The server sent a frame that could not be read: %1</source>
        <translation>Le serveur a envoyé une trame illisible&#xa0;: %1</translation>
    </message>
    <message>
        <source>The server sent a tick before describing the world.</source>
        <translation>Le serveur a envoyé un tick avant de décrire le monde.</translation>
    </message>
    <message>
        <source>The server refused this client&apos;s version: %1</source>
        <translation>Le serveur a refusé la version de ce client&#xa0;: %1</translation>
    </message>
    <message>
        <source>The server reported an error: %1</source>
        <translation>Le serveur a signalé une erreur&#xa0;: %1</translation>
    </message>
    <message>
        <source>The server sent a Hello, which only clients send.</source>
        <translation>Le serveur a envoyé un message Hello, que seuls les clients envoient.</translation>
    </message>
    <message>
        <source>The server sent a message of a kind this client does not know.</source>
        <translation>Le serveur a envoyé un type de message que ce client ne connaît pas.</translation>
    </message>
    <message>
        <source>The server speaks protocol version %1, but this client speaks version %2.</source>
        <translation>Le serveur parle la version %1 du protocole, mais ce client parle la version %2.</translation>
    </message>
    <message>
        <source>The server described a world of size %1, outside 1..%2.</source>
        <translation>Le serveur a décrit un monde de taille %1, hors de 1..%2.</translation>
    </message>
    <message>
        <source>The server described %1 cells, but a world of size %2 has %3.</source>
        <translation>Le serveur a annoncé %1 cellules, mais un monde de taille %2 en compte %3.</translation>
    </message>
    <message>
        <source>The server described %1 chunk rows per rhombus, more than the world size %2.</source>
        <translation>Le serveur a annoncé %1 rangées de blocs par losange, plus que la taille du monde, %2.</translation>
    </message>
    <message>
        <source>The server sent a snapshot before describing the world.</source>
        <translation>Le serveur a envoyé un instantané avant de décrire le monde.</translation>
    </message>
    <message>
        <source>Could not connect to %1.</source>
        <translation>Impossible de se connecter à %1.</translation>
    </message>
    <message>
        <source>The server sent a snapshot of tick %1 that does not fit the world: %2</source>
        <translation>Le serveur a envoyé un instantané du tick %1 qui ne correspond pas au monde&#xa0;: %2</translation>
    </message>
    <message>
        <source>The server sent tick %1 with changes that do not fit the world: %2</source>
        <translation>Le serveur a envoyé le tick %1 avec des changements qui ne correspondent pas au monde&#xa0;: %2</translation>
    </message>
    <message>
        <source>The server sent an action, which only clients send.</source>
        <translation>Le serveur a envoyé une action, ce que seuls les clients envoient.</translation>
    </message>
    <message>
        <source>The server gave this client player number %1, which is not a valid player.</source>
        <translation>Le serveur a attribué à ce client le numéro de joueur %1, qui n’est pas un joueur valide.</translation>
    </message>
    <message>
        <source>The server sent a result for action %1, which this client did not send.</source>
        <translation>Le serveur a envoyé un résultat pour l’action %1, que ce client n’a pas envoyée.</translation>
    </message>
    <message>
        <source>The server sent tick %1 with results that do not fit: %2</source>
        <translation>Le serveur a envoyé le tick %1 avec des résultats qui ne correspondent pas&#xa0;: %2</translation>
    </message>
    <message numerus="yes">
        <source>The connection to %1 was lost and %n attempt(s) to reconnect failed.</source>
        <translation>
            <numerusform>La connexion à %1 a été perdue et %n tentative de reconnexion a échoué.</numerusform>
            <numerusform>La connexion à %1 a été perdue et %n tentatives de reconnexion ont échoué.</numerusform>
        </translation>
    </message>
    <message>
        <source>The server sent tick %1 with a chunk that does not fit the world: %2</source>
        <translation>Le serveur a envoyé le tick %1 avec un bloc qui ne correspond pas au monde&#xa0;: %2</translation>
    </message>
    <message>
        <source>The server sent a message that only clients send.</source>
        <translation>Le serveur a envoyé un message que seuls les clients envoient.</translation>
    </message>
    <message>
        <source>The server sent tick %1 with machines that do not fit the world: %2</source>
        <translation>Le serveur a envoyé le tick %1 avec des machines qui ne correspondent pas au monde : %2</translation>
    </message>
</context>
<context>
    <name>hex::client::ServerListModel</name>
    <message>
        <source>password, account</source>
        <translation>mot de passe, compte</translation>
    </message>
    <message>
        <source>password</source>
        <translation>mot de passe</translation>
    </message>
    <message>
        <source>account</source>
        <translation>compte</translation>
    </message>
    <message>
        <source>Joining needs the server&apos;s password and an account.</source>
        <translation>Pour rejoindre, il faut le mot de passe du serveur et un compte.</translation>
    </message>
    <message>
        <source>Joining needs the server&apos;s password.</source>
        <translation>Pour rejoindre, il faut le mot de passe du serveur.</translation>
    </message>
    <message>
        <source>Only players with an account may join.</source>
        <translation>Seuls les joueurs ayant un compte peuvent rejoindre.</translation>
    </message>
    <message>
        <source>Anyone may join.</source>
        <translation>Tout le monde peut rejoindre.</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1&#xa0;ms</translation>
    </message>
    <message>
        <source>%1 players online, at most %2.</source>
        <translation>%1 joueurs en ligne, au plus %2.</translation>
    </message>
    <message>
        <source>%1 cells (n = %2).</source>
        <translation>%1 cellules (n&#xa0;=&#xa0;%2).</translation>
    </message>
    <message>
        <source>Round trip of the last LAN query.</source>
        <translation>Aller-retour de la dernière requête sur le réseau local.</translation>
    </message>
    <message>
        <source>No answer to a LAN query yet.</source>
        <translation>Pas encore de réponse à une requête sur le réseau local.</translation>
    </message>
    <message>
        <source>World</source>
        <translation>Monde</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>Hôte</translation>
    </message>
    <message>
        <source>Players</source>
        <translation>Joueurs</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Taille</translation>
    </message>
    <message>
        <source>Ping</source>
        <translation>Ping</translation>
    </message>
    <message>
        <source>Access</source>
        <translation>Accès</translation>
    </message>
</context>
<context>
    <name>hex::client::Settings</name>
    <message>
        <source>Rotate the structure under the mouse</source>
        <translation>Tourner la structure sous la souris</translation>
    </message>
    <message>
        <source>Turn the camera left</source>
        <translation>Tourner la caméra vers la gauche</translation>
    </message>
    <message>
        <source>Turn the camera right</source>
        <translation>Tourner la caméra vers la droite</translation>
    </message>
    <message>
        <source>Turn the camera up</source>
        <translation>Tourner la caméra vers le haut</translation>
    </message>
    <message>
        <source>Turn the camera down</source>
        <translation>Tourner la caméra vers le bas</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>Zoomer</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>Dézoomer</translation>
    </message>
    <message>
        <source>Game menu</source>
        <translation>Menu du jeu</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>Discussion</translation>
    </message>
</context>
<context>
    <name>hex::client::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>host, host:port or ws://host:port/ws</source>
        <translation>hôte, hôte:port ou ws://hôte:port/ws</translation>
    </message>
    <message>
        <source>Player &amp;name:</source>
        <translation>&amp;Nom du joueur&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Langue&#xa0;:</translation>
    </message>
    <message>
        <source>Takes effect when Hexsphere restarts.</source>
        <translation>Prend effet au prochain démarrage de Hexsphere.</translation>
    </message>
    <message>
        <source>Default &amp;server:</source>
        <translation>&amp;Serveur par défaut&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;General</source>
        <translation>&amp;Général</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Désactivé</translation>
    </message>
    <message>
        <source>%1×</source>
        <translation>%1×</translation>
    </message>
    <message>
        <source>Wait for the display’s vertical sync</source>
        <translation>Attendre la synchronisation verticale de l’écran</translation>
    </message>
    <message>
        <source>&amp;Antialiasing (MSAA):</source>
        <translation>&amp;Anticrénelage (MSAA)&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Vsync:</source>
        <translation>Synchro &amp;verticale&#xa0;:</translation>
    </message>
    <message>
        <source>Takes effect when the next game starts.</source>
        <translation>Prend effet au début de la prochaine partie.</translation>
    </message>
    <message>
        <source>G&amp;raphics</source>
        <translation>G&amp;raphismes</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>Action</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>Touche</translation>
    </message>
    <message>
        <source>Restore &amp;defaults</source>
        <translation>Rétablir les valeurs par &amp;défaut</translation>
    </message>
    <message>
        <source>&amp;Keys</source>
        <translation>&amp;Touches</translation>
    </message>
    <message>
        <source>The player name must be 1 to %1 characters.</source>
        <translation>Le nom du joueur doit compter de 1 à %1 caractères.</translation>
    </message>
    <message>
        <source>“%1” is bound to both “%2” and “%3”.</source>
        <translation>«&#xa0;%1&#xa0;» est attribuée à la fois à «&#xa0;%2&#xa0;» et à «&#xa0;%3&#xa0;».</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>Automatique</translation>
    </message>
    <message>
        <source>Automatic: 4× on a graphics card, off when the computer draws without one (software rendering), where smoothing edges would cost most of each frame.</source>
        <translation>Automatique : 4× avec une carte graphique, désactivé quand l’ordinateur dessine sans carte (rendu logiciel), où lisser les bords coûterait l’essentiel de chaque image.</translation>
    </message>
</context>
<context>
    <name>hex::client::Shell</name>
    <message>
        <source>Starting the game</source>
        <translation>Démarrage de la partie</translation>
    </message>
    <message>
        <source>Host a game</source>
        <translation>Héberger une partie</translation>
    </message>
    <message>
        <source>Starting the world “%1”…</source>
        <translation>Démarrage du monde « %1 »…</translation>
    </message>
    <message>
        <source>%1
%2 cells, %3 s elapsed</source>
        <translation>%1
%2 cellules, %3 s écoulées</translation>
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
        <translation>Bâtissez des usines sur une planète hexagonale vivante.</translation>
    </message>
    <message>
        <source>&amp;Host game</source>
        <translation>&amp;Héberger une partie</translation>
    </message>
    <message>
        <source>&amp;Join game</source>
        <translation>&amp;Rejoindre une partie</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>&amp;Paramètres</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>Start a world on this computer and play in it; others may join.</source>
        <translation>Lancer un monde sur cet ordinateur et y jouer&#xa0;; d’autres peuvent vous rejoindre.</translation>
    </message>
    <message>
        <source>Play in a world that another computer hosts.</source>
        <translation>Jouer dans un monde hébergé par un autre ordinateur.</translation>
    </message>
</context>
<context>
    <name>hex::client::TimedScreenshot</name>
    <message>
        <source>No screenshot: the planet never arrived (%1).</source>
        <translation>Pas de capture d’écran&#xa0;: la planète n’est jamais arrivée (%1).</translation>
    </message>
    <message>
        <source>No screenshot: the planet arrived but was never drawn.</source>
        <translation>Pas de capture d’écran&#xa0;: la planète est arrivée mais n’a jamais été dessinée.</translation>
    </message>
    <message>
        <source>No screenshot: %1</source>
        <translation>Pas de capture d’écran&#xa0;: %1</translation>
    </message>
    <message>
        <source>Could not save the screenshot to %1: %2</source>
        <translation>Impossible d’enregistrer la capture d’écran dans %1&#xa0;: %2</translation>
    </message>
    <message>
        <source>Screenshot saved to %1.</source>
        <translation>Capture d’écran enregistrée dans %1.</translation>
    </message>
</context>
<context>
    <name>hex::client::WindowCapture</name>
    <message>
        <source>There is no window to capture.</source>
        <translation>Il n’y a aucune fenêtre à capturer.</translation>
    </message>
    <message>
        <source>The 3D view could not be captured.</source>
        <translation>La vue 3D n’a pas pu être capturée.</translation>
    </message>
    <message>
        <source>The 3D view did not deliver a frame within %1 seconds.</source>
        <translation>La vue 3D n’a fourni aucune image en %1 secondes.</translation>
    </message>
    <message>
        <source>The window closed during the capture.</source>
        <translation>La fenêtre s’est fermée pendant la capture.</translation>
    </message>
    <message>
        <source>The 3D view returned an empty frame.</source>
        <translation>La vue 3D a renvoyé une image vide.</translation>
    </message>
</context>
<context>
    <name>hex::content</name>
    <message>
        <source>Assembler</source>
        <translation>Assembleuse</translation>
    </message>
    <message>
        <source>Brick</source>
        <translation>Brique</translation>
    </message>
    <message>
        <source>Build robot arms</source>
        <translation>Monter des bras robotiques</translation>
    </message>
    <message>
        <source>Carbon filter</source>
        <translation>Filtre à charbon</translation>
    </message>
    <message>
        <source>Chest</source>
        <translation>Coffre</translation>
    </message>
    <message>
        <source>Circuit</source>
        <translation>Circuit</translation>
    </message>
    <message>
        <source>Coal</source>
        <translation>Charbon</translation>
    </message>
    <message>
        <source>Coal seam</source>
        <translation>Veine de charbon</translation>
    </message>
    <message>
        <source>Conveyor</source>
        <translation>Convoyeur</translation>
    </message>
    <message>
        <source>Copper deposit</source>
        <translation>Gisement de cuivre</translation>
    </message>
    <message>
        <source>Copper ore</source>
        <translation>Minerai de cuivre</translation>
    </message>
    <message>
        <source>Copper plate</source>
        <translation>Plaque de cuivre</translation>
    </message>
    <message>
        <source>Copper wire</source>
        <translation>Fil de cuivre</translation>
    </message>
    <message>
        <source>Cut gears</source>
        <translation>Tailler des engrenages</translation>
    </message>
    <message>
        <source>Draw copper wire</source>
        <translation>Tréfiler du fil de cuivre</translation>
    </message>
    <message>
        <source>Etch circuits</source>
        <translation>Graver des circuits</translation>
    </message>
    <message>
        <source>Extractor</source>
        <translation>Extracteur</translation>
    </message>
    <message>
        <source>Fertiliser</source>
        <translation>Engrais</translation>
    </message>
    <message>
        <source>Fire bricks</source>
        <translation>Cuire des briques</translation>
    </message>
    <message>
        <source>Furnace</source>
        <translation>Four</translation>
    </message>
    <message>
        <source>Gear</source>
        <translation>Engrenage</translation>
    </message>
    <message>
        <source>Inserter</source>
        <translation>Bras inserteur</translation>
    </message>
    <message>
        <source>Iron deposit</source>
        <translation>Gisement de fer</translation>
    </message>
    <message>
        <source>Iron ore</source>
        <translation>Minerai de fer</translation>
    </message>
    <message>
        <source>Iron plate</source>
        <translation>Plaque de fer</translation>
    </message>
    <message>
        <source>Make steel</source>
        <translation>Faire de l’acier</translation>
    </message>
    <message>
        <source>Mix fertiliser</source>
        <translation>Mélanger de l’engrais</translation>
    </message>
    <message>
        <source>Motor</source>
        <translation>Moteur</translation>
    </message>
    <message>
        <source>Pack carbon filters</source>
        <translation>Garnir des filtres à charbon</translation>
    </message>
    <message>
        <source>Robot arm</source>
        <translation>Bras robotique</translation>
    </message>
    <message>
        <source>Scrubber</source>
        <translation>Épurateur</translation>
    </message>
    <message>
        <source>Seeder</source>
        <translation>Semeur</translation>
    </message>
    <message>
        <source>Seeds</source>
        <translation>Graines</translation>
    </message>
    <message>
        <source>Smelt copper</source>
        <translation>Fondre du cuivre</translation>
    </message>
    <message>
        <source>Smelt iron</source>
        <translation>Fondre du fer</translation>
    </message>
    <message>
        <source>Splitter</source>
        <translation>Répartiteur</translation>
    </message>
    <message>
        <source>Sprout seeds</source>
        <translation>Faire germer des graines</translation>
    </message>
    <message>
        <source>Steel plate</source>
        <translation>Plaque d’acier</translation>
    </message>
    <message>
        <source>Stone</source>
        <translation>Pierre</translation>
    </message>
    <message>
        <source>Stone quarry</source>
        <translation>Carrière de pierre</translation>
    </message>
    <message>
        <source>Wind motors</source>
        <translation>Bobiner des moteurs</translation>
    </message>
</context>
<context>
    <name>hex::geometry::HexSphere</name>
    <message>
        <source>the sphere&apos;s %1 table holds %2 entries, not %3</source>
        <translation>la table %1 de la sphère contient %2 entrées, et non %3</translation>
    </message>
    <message>
        <source>a sphere has 1 to 1024 subdivisions, not %1</source>
        <translation>une sphère compte de 1 à 1024 subdivisions, et non %1</translation>
    </message>
    <message>
        <source>a chunk split of %1 does not fit %2 subdivisions</source>
        <translation>un découpage en blocs de %1 ne convient pas à %2 subdivisions</translation>
    </message>
</context>
<context>
    <name>hex::protocol</name>
    <message>
        <source>The frame is empty.</source>
        <translation>La trame est vide.</translation>
    </message>
    <message>
        <source>The frame is larger than %1 bytes.</source>
        <translation>La trame dépasse %1 octets.</translation>
    </message>
    <message>
        <source>The frame is not a valid Hexsphere envelope.</source>
        <translation>La trame n’est pas une enveloppe Hexsphere valide.</translation>
    </message>
    <message>
        <source>The snapshot&apos;s %1 field does not hold one value for each of the %2 cells.</source>
        <translation>Le champ %1 de l’instantané ne contient pas une valeur pour chacune des %2 cellules.</translation>
    </message>
    <message>
        <source>A delta names chunk %1, but the world has %2 chunks.</source>
        <translation>Un delta désigne le bloc %1, mais le monde compte %2 blocs.</translation>
    </message>
    <message>
        <source>A delta arrived before the snapshot.</source>
        <translation>Un delta est arrivé avant l’instantané.</translation>
    </message>
    <message>
        <source>The delta of chunk %1 lists %2 cells but its %3 field does not match.</source>
        <translation>Le delta du bloc %1 énumère %2 cellules, mais son champ %3 n’y correspond pas.</translation>
    </message>
    <message>
        <source>The delta of chunk %1 lists cell %2, which is out of order or not in that chunk.</source>
        <translation>Le delta du bloc %1 énumère la cellule %2, qui est hors d’ordre ou n’appartient pas à ce bloc.</translation>
    </message>
    <message>
        <source>The action&apos;s %1 is %2, but it must be at most %3.</source>
        <translation>Le champ %1 de l’action vaut %2, mais il doit valoir au plus %3.</translation>
    </message>
    <message>
        <source>The action&apos;s kind %1 is not one of the known kinds 1..7.</source>
        <translation>Le type d’action %1 ne fait pas partie des types connus 1..7.</translation>
    </message>
    <message>
        <source>The action&apos;s cell %1 does not exist: the world has %2 cells.</source>
        <translation>La cellule %1 de l’action n’existe pas&#xa0;: le monde compte %2 cellules.</translation>
    </message>
    <message>
        <source>A chunk snapshot names chunk %1, but the world has %2 chunks.</source>
        <translation>Un instantané de bloc désigne le bloc %1, mais le monde compte %2 blocs.</translation>
    </message>
    <message>
        <source>A chunk snapshot arrived for a mirror of another size.</source>
        <translation>Un instantané de bloc est arrivé pour un miroir d’une autre taille.</translation>
    </message>
    <message>
        <source>The snapshot of chunk %1 does not list exactly the chunk&apos;s %2 cells in order.</source>
        <translation>L’instantané du bloc %1 n’énumère pas exactement, dans l’ordre, les %2 cellules du bloc.</translation>
    </message>
    <message>
        <source>The snapshot of chunk %1 lists %2 cells but its %3 field does not match.</source>
        <translation>L’instantané du bloc %1 énumère %2 cellules, mais son champ %3 n’y correspond pas.</translation>
    </message>
</context>
<context>
    <name>hex::server::Auth</name>
    <message>
        <source>Could not hash the password: the server is out of memory.</source>
        <translation>Impossible de hacher le mot de passe&#xa0;: le serveur manque de mémoire.</translation>
    </message>
    <message>
        <source>The request carries no session token.</source>
        <translation>La requête ne porte aucun jeton de session.</translation>
    </message>
    <message>
        <source>The session token is not well formed.</source>
        <translation>Le jeton de session est mal formé.</translation>
    </message>
    <message>
        <source>The session token was not issued by this server.</source>
        <translation>Le jeton de session n’a pas été émis par ce serveur.</translation>
    </message>
    <message>
        <source>The session token has expired; please log in again.</source>
        <translation>Le jeton de session a expiré&#xa0;; veuillez vous reconnecter.</translation>
    </message>
    <message>
        <source>A name has 1 to %1 characters: letters, digits, spaces, &apos;-&apos; and &apos;_&apos;.</source>
        <translation>Un nom compte de 1 à %1 caractères&#xa0;: lettres, chiffres, espaces, «&#xa0;-&#xa0;» et «&#xa0;_&#xa0;».</translation>
    </message>
    <message>
        <source>A password has %1 to %2 characters.</source>
        <translation>Un mot de passe compte de %1 à %2 caractères.</translation>
    </message>
    <message>
        <source>That name is already taken.</source>
        <translation>Ce nom est déjà pris.</translation>
    </message>
    <message>
        <source>There is no account with that name.</source>
        <translation>Il n’existe aucun compte à ce nom.</translation>
    </message>
    <message>
        <source>The password is wrong.</source>
        <translation>Le mot de passe est incorrect.</translation>
    </message>
    <message>
        <source>The server could not process the password; try again later.</source>
        <translation>Le serveur n’a pas pu traiter le mot de passe&#xa0;; réessayez plus tard.</translation>
    </message>
</context>
<context>
    <name>hex::server::GameServer</name>
    <message>
        <source>The server is already running.</source>
        <translation>Le serveur est déjà en marche.</translation>
    </message>
    <message>
        <source>The game content does not load: %1</source>
        <translation>Le contenu du jeu ne se charge pas&#xa0;: %1</translation>
    </message>
    <message>
        <source>The world store %1 does not open: %2</source>
        <translation>Le stockage de mondes %1 ne s&apos;ouvre pas : %2</translation>
    </message>
    <message>
        <source>Loading the world “%1”…</source>
        <translation>Chargement du monde « %1 »…</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; in %2 does not load: %3</source>
        <translation>Le monde « %1 » dans %2 ne se charge pas : %3</translation>
    </message>
    <message numerus="yes">
        <source>Replaying the last %n ticks of “%1”…</source>
        <translation>
            <numerusform>Rejeu du dernier tick de « %1 »…</numerusform>
            <numerusform>Rejeu des %n derniers ticks de « %1 »…</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>Annulé.</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be created in %2: %3</source>
        <translation>Le monde « %1 » ne peut pas être créé dans %2 : %3</translation>
    </message>
    <message>
        <source>Generating the world “%1”…</source>
        <translation>Génération du monde « %1 »…</translation>
    </message>
    <message>
        <source>Saving the world “%1”…</source>
        <translation>Sauvegarde du monde « %1 »…</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be saved in %2: %3</source>
        <translation>Le monde « %1 » ne peut pas être sauvegardé dans %2 : %3</translation>
    </message>
    <message>
        <source>The token key of world &apos;%1&apos; in %2 cannot be read: %3</source>
        <translation>La clé des jetons du monde « %1 » dans %2 ne peut pas être lue : %3</translation>
    </message>
    <message>
        <source>it is not 32 bytes</source>
        <translation>elle ne fait pas 32 octets</translation>
    </message>
    <message>
        <source>The players of world &apos;%1&apos; in %2 cannot be read: %3</source>
        <translation>Les joueurs du monde « %1 » dans %2 ne peuvent pas être lus : %3</translation>
    </message>
    <message>
        <source>World &apos;%1&apos; cannot be kept in %2: %3</source>
        <translation>Le monde « %1 » ne peut pas être conservé dans %2 : %3</translation>
    </message>
</context>
<context>
    <name>hex::server::ServerConfig</name>
    <message>
        <source>TCP port to listen on; 0 picks a free one (default %1).</source>
        <translation>Port TCP d’écoute&#xa0;; 0 en choisit un libre (par défaut %1).</translation>
    </message>
    <message>
        <source>port</source>
        <translation>port</translation>
    </message>
    <message>
        <source>Address to listen on (default: all interfaces).</source>
        <translation>Adresse d’écoute (par défaut&#xa0;: toutes les interfaces).</translation>
    </message>
    <message>
        <source>address</source>
        <translation>adresse</translation>
    </message>
    <message>
        <source>World size n: the planet has 10n²+2 cells, 1..%1 (default %2).</source>
        <translation>Taille du monde n&#xa0;: la planète compte 10n²+2 cellules, 1..%1 (par défaut %2).</translation>
    </message>
    <message>
        <source>n</source>
        <translation>n</translation>
    </message>
    <message>
        <source>Simulation updates per second, %1..%2 (default %3).</source>
        <translation>Mises à jour de la simulation par seconde, %1..%2 (par défaut %3).</translation>
    </message>
    <message>
        <source>rate</source>
        <translation>fréquence</translation>
    </message>
    <message>
        <source>World generation seed (default %1).</source>
        <translation>Graine de génération du monde (par défaut %1).</translation>
    </message>
    <message>
        <source>number</source>
        <translation>nombre</translation>
    </message>
    <message>
        <source>World name (default &quot;%1&quot;).</source>
        <translation>Nom du monde (par défaut «&#xa0;%1&#xa0;»).</translation>
    </message>
    <message>
        <source>name</source>
        <translation>nom</translation>
    </message>
    <message>
        <source>--%1 must be a whole number from %2 to %3, not &quot;%4&quot;.</source>
        <translation>--%1 doit être un nombre entier de %2 à %3, et non «&#xa0;%4&#xa0;».</translation>
    </message>
    <message>
        <source>--seed must be a non-negative whole number, not &quot;%1&quot;.</source>
        <translation>--seed doit être un nombre entier positif ou nul, et non «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--bind must be an IP address, not &quot;%1&quot;.</source>
        <translation>--bind doit être une adresse IP, et non «&#xa0;%1&#xa0;».</translation>
    </message>
    <message>
        <source>--world must be a name of 1 to 64 characters.</source>
        <translation>--world doit être un nom de 1 à 64 caractères.</translation>
    </message>
    <message>
        <source>Threads the simulation step may use, 1..%1 (default %2).</source>
        <translation>Fils d’exécution que le pas de simulation peut utiliser, 1..%1 (par défaut %2).</translation>
    </message>
    <message>
        <source>count</source>
        <translation>nombre</translation>
    </message>
    <message>
        <source>Most WebSocket clients connected at once, 1..%1 (default %2).</source>
        <translation>Nombre maximal de clients WebSocket connectés à la fois, 1..%1 (par défaut %2).</translation>
    </message>
    <message>
        <source>Most HTTP connections open at once, long-polls included, 1..%1 (default %2).</source>
        <translation>Nombre maximal de connexions HTTP ouvertes à la fois, attentes longues comprises, 1..%1 (par défaut %2).</translation>
    </message>
    <message>
        <source>Refuse guests: players register an account and log in.</source>
        <translation>Refuser les invités&#xa0;: les joueurs créent un compte et s’y connectent.</translation>
    </message>
    <message>
        <source>Seconds a session token stays valid, 10..2592000 (default %1).</source>
        <translation>Durée de validité d’un jeton de session en secondes, 10..2592000 (par défaut %1).</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>secondes</translation>
    </message>
    <message>
        <source>Messages a session&apos;s mailbox holds before the oldest are replaced by a resync marker, 4..65536 (default %1).</source>
        <translation>Messages que la boîte aux lettres d’une session garde avant que les plus anciens soient remplacés par un marqueur de resynchronisation, 4..65536 (par défaut %1).</translation>
    </message>
    <message>
        <source>Seconds a session with no connection and no request lives on, 10..86400 (default %1).</source>
        <translation>Secondes pendant lesquelles survit une session sans connexion ni requête, 10..86400 (par défaut %1).</translation>
    </message>
    <message>
        <source>A password players must give to join (default: none).</source>
        <translation>Un mot de passe que les joueurs doivent donner pour se joindre (par défaut&#xa0;: aucun).</translation>
    </message>
    <message>
        <source>password</source>
        <translation>mot de passe</translation>
    </message>
    <message>
        <source>Announce the server on the local network and answer LAN discovery (UDP port %1).</source>
        <translation>Annoncer le serveur sur le réseau local et répondre à la découverte LAN (port UDP %1).</translation>
    </message>
    <message>
        <source>--password must be 1 to 256 characters.</source>
        <translation>--password doit compter de 1 à 256 caractères.</translation>
    </message>
    <message>
        <source>Where worlds are kept: a directory of SQLite files (&quot;sqlite:DIR&quot; or a path), &quot;postgresql://user:password@host:port/database&quot;, or &quot;none&quot; to keep nothing (default: SQLite files in %1).</source>
        <translation>Où les mondes sont conservés : un répertoire de fichiers SQLite (« sqlite:RÉP » ou un chemin), « postgresql://utilisateur:motdepasse@hôte:port/base », ou « none » pour ne rien conserver (par défaut : des fichiers SQLite dans %1).</translation>
    </message>
    <message>
        <source>url</source>
        <translation>url</translation>
    </message>
    <message>
        <source>Milliseconds between saves of the changed parts of the world, 100..3600000 (default %1).</source>
        <translation>Millisecondes entre deux sauvegardes des parties modifiées du monde, 100..3600000 (par défaut %1).</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>--database must be a directory, a postgresql:// URL or &quot;none&quot;, not empty.</source>
        <translation>--database doit être un répertoire, une URL postgresql:// ou « none », pas une valeur vide.</translation>
    </message>
    <message>
        <source>--database: %1</source>
        <translation>--database : %1</translation>
    </message>
    <message>
        <source>--world &quot;%1&quot; cannot name a saved world: use letters, digits, spaces, &apos;-&apos;, &apos;_&apos; and &apos;.&apos;, not starting with &apos;.&apos;.</source>
        <translation>--world « %1 » ne peut pas nommer un monde sauvegardé : utilisez des lettres, des chiffres, des espaces, &apos;-&apos;, &apos;_&apos; et &apos;.&apos;, sans commencer par &apos;.&apos;.</translation>
    </message>
    <message>
        <source>Compute worker processes that step the world in shared memory, 0..%1; 0 steps it on --threads threads in the server (default: &quot;auto&quot;, %2 for worlds of size 256 and more on this machine, else 0).</source>
        <translation>Processus de calcul qui font avancer le monde en mémoire partagée, 0..%1 ; 0 le fait avancer sur --threads fils dans le serveur (par défaut : « auto », %2 pour les mondes de taille 256 ou plus sur cette machine, sinon 0).</translation>
    </message>
    <message>
        <source>How the server and its workers wake each other: futex, eventfd or signal (default: the best this kernel offers).</source>
        <translation>Comment le serveur et ses processus de calcul se réveillent : futex, eventfd ou signal (par défaut : le meilleur que ce noyau propose).</translation>
    </message>
    <message>
        <source>method</source>
        <translation>méthode</translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &quot;%1&quot;.</source>
        <translation>--wakeup doit valoir futex, eventfd ou signal, et non « %1 ».</translation>
    </message>
    <message>
        <source>Milliseconds one step phase of a worker may take before the server kills it and runs the parts it took itself, 10..60000 (default %1).</source>
        <translation>Millisecondes que peut prendre une phase de calcul d’un processus avant que le serveur ne le tue et calcule lui-même les parts qu’il avait prises, 10..60000 (par défaut %1).</translation>
    </message>
</context>
<context>
    <name>hex::server::SessionManager</name>
    <message>
        <source>This server requires an account: register or log in with a name and password.</source>
        <translation>Ce serveur exige un compte&#xa0;: inscrivez-vous ou connectez-vous avec un nom et un mot de passe.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a valid player name: use 1 to %2 letters, digits, spaces, &apos;-&apos; or &apos;_&apos;.</source>
        <translation>«&#xa0;%1&#xa0;» n’est pas un nom de joueur valide&#xa0;: utilisez de 1 à %2 lettres, chiffres, espaces, «&#xa0;-&#xa0;» ou «&#xa0;_&#xa0;».</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is an account on this server: log in with its password.</source>
        <translation>«&#xa0;%1&#xa0;» est un compte de ce serveur&#xa0;: connectez-vous avec son mot de passe.</translation>
    </message>
    <message>
        <source>The world has no room for more players.</source>
        <translation>Le monde n’a plus de place pour d’autres joueurs.</translation>
    </message>
    <message>
        <source>The name &quot;%1&quot; is already playing on this server: choose another.</source>
        <translation>Le nom «&#xa0;%1&#xa0;» joue déjà sur ce serveur&#xa0;: choisissez-en un autre.</translation>
    </message>
    <message>
        <source>Another client joined as %1.</source>
        <translation>Un autre client s’est joint en tant que %1.</translation>
    </message>
    <message>
        <source>The server is busy checking passwords: try again in a second.</source>
        <translation>Le serveur est occupé à vérifier des mots de passe&#xa0;: réessayez dans une seconde.</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is a guest&apos;s name in this world: choose another.</source>
        <translation>«&#xa0;%1&#xa0;» est le nom d’un invité dans ce monde&#xa0;: choisissez-en un autre.</translation>
    </message>
    <message>
        <source>Wrong name or password.</source>
        <translation>Nom ou mot de passe incorrect.</translation>
    </message>
    <message>
        <source>%1 logged in from another client.</source>
        <translation>%1 s’est connecté depuis un autre client.</translation>
    </message>
    <message>
        <source>This session has ended: start a new one (POST /api/v1/session, or a Hello without token).</source>
        <translation>Cette session est terminée&#xa0;: ouvrez-en une nouvelle (POST /api/v1/session, ou un Hello sans jeton).</translation>
    </message>
    <message>
        <source>Idle for more than %1 seconds.</source>
        <translation>Inactive depuis plus de %1 secondes.</translation>
    </message>
    <message>
        <source>The view has a coordinate that is not a number.</source>
        <translation>La vue a une coordonnée qui n’est pas un nombre.</translation>
    </message>
    <message>
        <source>The view&apos;s radius_degrees is negative.</source>
        <translation>Le champ radius_degrees de la vue est négatif.</translation>
    </message>
    <message>
        <source>The view&apos;s direction (x, y, z) is zero: say which way the camera looks.</source>
        <translation>La direction (x, y, z) de la vue est nulle&#xa0;: indiquez où regarde la caméra.</translation>
    </message>
    <message>
        <source>There is no action to queue.</source>
        <translation>Il n’y a aucune action à mettre en file.</translation>
    </message>
    <message>
        <source>%1 actions at once is more than the %2 a session may send at once.</source>
        <translation>%1 actions d’un coup, c’est plus que les %2 qu’une session peut envoyer à la fois.</translation>
    </message>
    <message>
        <source>Action %1 of %2: %3</source>
        <translation>Action %1 sur %2&#xa0;: %3</translation>
    </message>
    <message>
        <source>Action %1 was not queued</source>
        <translation>L’action %1 n’a pas été mise en file</translation>
    </message>
    <message>
        <source>None of these %1 actions was queued</source>
        <translation>Aucune de ces %1 actions n’a été mise en file</translation>
    </message>
    <message>
        <source>Too many actions: at most %1 per second, %2 at once. %3; try again in %4 ms.</source>
        <translation>Trop d’actions&#xa0;: au plus %1 par seconde, %2 d’un coup. %3&#xa0;; réessayez dans %4&#xa0;ms.</translation>
    </message>
    <message>
        <source>Messages %1 to %2 were dropped because they were not fetched in time; the next message carries the state of every viewed chunk.</source>
        <translation>Les messages %1 à %2 ont été abandonnés faute d’avoir été relevés à temps&#xa0;; le message suivant porte l’état de chaque bloc en vue.</translation>
    </message>
    <message numerus="yes">
        <source>%n older action result(s) were dropped too.</source>
        <translation>
            <numerusform>%n résultat d’action plus ancien a aussi été abandonné.</numerusform>
            <numerusform>%n résultats d’action plus anciens ont aussi été abandonnés.</numerusform>
        </translation>
    </message>
    <message>
        <source>Messages %1 to %2 are no longer held; the next message carries the state of every viewed chunk.</source>
        <translation>Les messages %1 à %2 ne sont plus conservés&#xa0;; le message suivant porte l’état de chaque bloc en vue.</translation>
    </message>
    <message>
        <source>This server needs a password to join.</source>
        <translation>Ce serveur demande un mot de passe pour se joindre.</translation>
    </message>
    <message>
        <source>Wrong server password.</source>
        <translation>Mot de passe du serveur incorrect.</translation>
    </message>
    <message>
        <source>A chat line has 1 to %1 characters.</source>
        <translation>Une ligne de discussion compte de 1 à %1 caractères.</translation>
    </message>
    <message>
        <source>Too many chat lines: at most %1 per second, %2 at once.</source>
        <translation>Trop de lignes de discussion&#xa0;: au plus %1 par seconde, %2 d’un coup.</translation>
    </message>
    <message>
        <source>The cursor&apos;s cell %1 does not exist: the world has %2 cells.</source>
        <translation>La cellule %1 du curseur n’existe pas&#xa0;: le monde compte %2 cellules.</translation>
    </message>
    <message>
        <source>Your account is created, but the server cannot save it right now; it will be saved once the database is back. Log in again in a moment.</source>
        <translation>Votre compte est créé, mais le serveur ne peut pas le sauvegarder pour l&apos;instant ; il le sera dès le retour de la base de données. Reconnectez-vous dans un moment.</translation>
    </message>
    <message>
        <source>The server cannot save actions right now (its database is unreachable and its backlog is full); nothing was queued. Try again later.</source>
        <translation>Le serveur ne peut pas sauvegarder d&apos;actions pour l&apos;instant (sa base de données est injoignable et sa file d&apos;attente est pleine) ; rien n&apos;a été mis en file. Réessayez plus tard.</translation>
    </message>
</context>
<context>
    <name>hex::server::WebSocketTransport</name>
    <message>
        <source>The server is shutting down.</source>
        <translation>Le serveur s’arrête.</translation>
    </message>
    <message>
        <source>The server is full (%1 connections).</source>
        <translation>Le serveur est plein (%1 connexions).</translation>
    </message>
    <message>
        <source>No Hello within %1 seconds.</source>
        <translation>Aucun Hello dans les %1 secondes.</translation>
    </message>
    <message>
        <source>Nothing heard for %1 seconds.</source>
        <translation>Rien reçu depuis %1 secondes.</translation>
    </message>
    <message>
        <source>Text frames are not accepted: send binary protobuf Envelope frames.</source>
        <translation>Les trames texte ne sont pas acceptées&#xa0;: envoyez des trames binaires d’Envelope protobuf.</translation>
    </message>
    <message>
        <source>Hello was already received.</source>
        <translation>Le Hello a déjà été reçu.</translation>
    </message>
    <message>
        <source>Clients may not send this message.</source>
        <translation>Les clients ne peuvent pas envoyer ce message.</translation>
    </message>
    <message>
        <source>The first message must be Hello.</source>
        <translation>Le premier message doit être Hello.</translation>
    </message>
    <message>
        <source>Protocol version mismatch: the client speaks version %1, the server version %2.</source>
        <translation>Versions du protocole différentes&#xa0;: le client parle la version %1, le serveur la version %2.</translation>
    </message>
    <message>
        <source>Protocol version mismatch.</source>
        <translation>Versions du protocole différentes.</translation>
    </message>
    <message>
        <source>This session was resumed from another connection.</source>
        <translation>Cette session a été reprise depuis une autre connexion.</translation>
    </message>
    <message>
        <source>Session resumed elsewhere.</source>
        <translation>Session reprise ailleurs.</translation>
    </message>
</context>
<context>
    <name>hex::server::compute::ComputeGroup</name>
    <message>
        <source>this world already has compute workers</source>
        <translation>ce monde a déjà des processus de calcul</translation>
    </message>
    <message>
        <source>the number of compute workers must be 1 to %1, not %2</source>
        <translation>le nombre de processus de calcul doit être compris entre 1 et %1, et non %2</translation>
    </message>
    <message>
        <source>the compute worker %1 is not an executable file</source>
        <translation>le programme de calcul %1 n’est pas un fichier exécutable</translation>
    </message>
    <message>
        <source>the content version &quot;%1&quot; is too long for the shared segment</source>
        <translation>la version de contenu « %1 » est trop longue pour le segment partagé</translation>
    </message>
    <message>
        <source>%1 workers with %2 parts each make more than the %3 parts a world can be split into</source>
        <translation>%1 processus de calcul de %2 parts chacun, cela fait plus que les %3 parts en lesquelles un monde peut être découpé</translation>
    </message>
    <message>
        <source>/dev/shm has %1 MiB free; compute workers for this world need about %2 MiB</source>
        <translation>/dev/shm a %1 Mio libres ; les processus de calcul de ce monde ont besoin d’environ %2 Mio</translation>
    </message>
    <message>
        <source>/dev/shm has %1 MiB free, too little to share the planet&apos;s geometry (%2 MiB) with the workers: each builds its own</source>
        <translation>/dev/shm a %1 Mio libres, trop peu pour partager la géométrie de la planète (%2 Mio) avec les processus de calcul : chacun construit la sienne</translation>
    </message>
    <message>
        <source>exited before it attached</source>
        <translation>s’est terminé avant de s’attacher</translation>
    </message>
    <message>
        <source>did not attach within %1 ms</source>
        <translation>ne s’est pas attaché en %1 ms</translation>
    </message>
    <message>
        <source>no compute worker started (%1): %2</source>
        <translation>aucun processus de calcul n’a démarré (%1) : %2</translation>
    </message>
    <message>
        <source>the compute workers already serve a world</source>
        <translation>les processus de calcul servent déjà un monde</translation>
    </message>
    <message>
        <source>this world is not the one the compute workers were made for</source>
        <translation>ce monde n’est pas celui pour lequel les processus de calcul ont été créés</translation>
    </message>
    <message>
        <source>the world&apos;s arrays do not fit the shared segment</source>
        <translation>les tableaux du monde ne tiennent pas dans le segment partagé</translation>
    </message>
    <message>
        <source>the world exists already</source>
        <translation>le monde existe déjà</translation>
    </message>
    <message>
        <source>the shared segment is too small to generate the world in</source>
        <translation>le segment partagé est trop petit pour y générer le monde</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>annulé</translation>
    </message>
    <message>
        <source>, exit status %1</source>
        <translation>, code de sortie %1</translation>
    </message>
    <message>
        <source>worker %1: %2</source>
        <translation>processus de calcul %1 : %2</translation>
    </message>
    <message>
        <source>worker %1 given up after %2 failures in a row; the server takes parts in its place from now on. Last: %3</source>
        <translation>processus de calcul %1 abandonné après %2 échecs consécutifs ; le serveur prend désormais des parts à sa place. Dernier échec : %3</translation>
    </message>
    <message>
        <source>crashed</source>
        <translation>a planté</translation>
    </message>
    <message>
        <source>waking it failed: %1</source>
        <translation>son réveil a échoué : %1</translation>
    </message>
    <message>
        <source>waiting for it failed: %1</source>
        <translation>l’attente de ce processus a échoué : %1</translation>
    </message>
    <message>
        <source>missed the %1 ms deadline</source>
        <translation>a dépassé le délai de %1 ms</translation>
    </message>
</context>
<context>
    <name>hex::server::compute::Waker</name>
    <message>
        <source>eventfd descriptors %1 and %2 are not open in this process</source>
        <translation>les descripteurs eventfd %1 et %2 ne sont pas ouverts dans ce processus</translation>
    </message>
    <message>
        <source>eventfd() failed: %1</source>
        <translation>eventfd() a échoué : %1</translation>
    </message>
    <message>
        <source>unknown wake-up method</source>
        <translation>méthode de réveil inconnue</translation>
    </message>
    <message>
        <source>FUTEX_WAKE failed: %1</source>
        <translation>FUTEX_WAKE a échoué : %1</translation>
    </message>
    <message>
        <source>FUTEX_WAIT failed: %1</source>
        <translation>FUTEX_WAIT a échoué : %1</translation>
    </message>
    <message>
        <source>writing to eventfd %1 failed: %2</source>
        <translation>l’écriture dans l’eventfd %1 a échoué : %2</translation>
    </message>
    <message>
        <source>waiting on eventfd %1 failed: %2</source>
        <translation>l’attente sur l’eventfd %1 a échoué : %2</translation>
    </message>
    <message>
        <source>reading eventfd %1 failed: %2</source>
        <translation>la lecture de l’eventfd %1 a échoué : %2</translation>
    </message>
    <message>
        <source>blocking signal %1 failed: %2</source>
        <translation>le blocage du signal %1 a échoué : %2</translation>
    </message>
    <message>
        <source>cannot signal the peer: its process has not registered its thread yet</source>
        <translation>impossible d’envoyer un signal à l’autre processus : il n’a pas encore enregistré son fil d’exécution</translation>
    </message>
    <message>
        <source>sending signal %1 to process %2 failed: %3</source>
        <translation>l’envoi du signal %1 au processus %2 a échoué : %3</translation>
    </message>
    <message>
        <source>sigtimedwait failed: %1</source>
        <translation>sigtimedwait a échoué : %1</translation>
    </message>
</context>
<context>
    <name>hex::server::compute::WorkerProcess</name>
    <message>
        <source>cannot start %1: %2</source>
        <translation>impossible de démarrer %1 : %2</translation>
    </message>
    <message>
        <source>worker exited with status %1 before it was ready: %2</source>
        <translation>le processus de calcul s’est terminé avec le code %1 avant d’être prêt : %2</translation>
    </message>
    <message>
        <source>worker was not ready after %1 ms</source>
        <translation>le processus de calcul n’était toujours pas prêt après %1 ms</translation>
    </message>
    <message>
        <source>worker did not stop within %1 ms; killed</source>
        <translation>le processus de calcul ne s’est pas arrêté en %1 ms ; tué</translation>
    </message>
</context>
<context>
    <name>hex::server::persistence</name>
    <message>
        <source>%1 is empty.</source>
        <translation>%1 est vide.</translation>
    </message>
    <message>
        <source>%1 has format %2; this program reads format %3.</source>
        <translation>%1 est au format %2 ; ce programme lit le format %3.</translation>
    </message>
    <message>
        <source>%1 is not a valid compressed block.</source>
        <translation>%1 n&apos;est pas un bloc compressé valide.</translation>
    </message>
    <message>
        <source>%1 claims %2 bytes, more than the %3 it can hold.</source>
        <translation>%1 annonce %2 octets, plus que les %3 qu&apos;il peut contenir.</translation>
    </message>
    <message>
        <source>%1 does not decompress: %2.</source>
        <translation>%1 ne se décompresse pas : %2.</translation>
    </message>
    <message>
        <source>%1 is truncated.</source>
        <translation>%1 est tronqué.</translation>
    </message>
    <message>
        <source>Chunk %1</source>
        <translation>Le bloc %1</translation>
    </message>
    <message>
        <source>%1 does not exist: the world has %2 chunks.</source>
        <translation>%1 n&apos;existe pas : le monde a %2 blocs.</translation>
    </message>
    <message>
        <source>%1 holds %2 bytes; its %3 cells need %4.</source>
        <translation>%1 contient %2 octets ; ses %3 cellules en demandent %4.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown terrain %3.</source>
        <translation>%1 : la cellule %2 a un terrain inconnu %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown resource %3.</source>
        <translation>%1 : la cellule %2 a une ressource inconnue %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has an unknown structure %3.</source>
        <translation>%1 : la cellule %2 a une structure inconnue %3.</translation>
    </message>
    <message>
        <source>%1: cell %2 has orientation %3; it has %4 sides.</source>
        <translation>%1 : la cellule %2 a l&apos;orientation %3 ; elle a %4 côtés.</translation>
    </message>
    <message>
        <source>The machine state</source>
        <translation>L&apos;état des machines</translation>
    </message>
    <message>
        <source>%1 is truncated at machine %2 of %3.</source>
        <translation>%1 est tronqué à la machine %2 sur %3.</translation>
    </message>
    <message>
        <source>%1 names cell %2; the world has %3 cells.</source>
        <translation>%1 nomme la cellule %2 ; le monde a %3 cellules.</translation>
    </message>
    <message>
        <source>%1 lists cell %2 out of order.</source>
        <translation>%1 liste la cellule %2 dans le désordre.</translation>
    </message>
    <message>
        <source>%1 of cell %2 holds a value out of range.</source>
        <translation>%1 de la cellule %2 contient une valeur hors limites.</translation>
    </message>
    <message>
        <source>%1 has bytes after its last machine.</source>
        <translation>%1 a des octets après sa dernière machine.</translation>
    </message>
    <message>
        <source>The player list</source>
        <translation>La liste des joueurs</translation>
    </message>
    <message>
        <source>%1 holds %2 players, more than a world can.</source>
        <translation>%1 contient %2 joueurs, plus qu&apos;un monde n&apos;en peut avoir.</translation>
    </message>
    <message>
        <source>%1 is truncated at player %2.</source>
        <translation>%1 est tronquée au joueur %2.</translation>
    </message>
    <message>
        <source>%1: player %2 carries zero of item %3.</source>
        <translation>%1 : le joueur %2 porte zéro de l&apos;objet %3.</translation>
    </message>
    <message>
        <source>%1 has bytes after its last player.</source>
        <translation>%1 a des octets après son dernier joueur.</translation>
    </message>
    <message>
        <source>Chunk %1 does not exist: the world has %2 chunks.</source>
        <translation>Le bloc %1 n&apos;existe pas : le monde a %2 blocs.</translation>
    </message>
    <message>
        <source>Chunk %1 is missing from the snapshot at tick %2.</source>
        <translation>Le bloc %1 manque dans l&apos;instantané du tick %2.</translation>
    </message>
    <message>
        <source>Chunk %1: cell %2 is owned by player %3, who does not exist.</source>
        <translation>Bloc %1 : la cellule %2 appartient au joueur %3, qui n&apos;existe pas.</translation>
    </message>
    <message>
        <source>Chunk %1: cell %2 %3 but the machine state %4.</source>
        <translation>Bloc %1 : la cellule %2 %3 mais l&apos;état des machines %4.</translation>
    </message>
    <message>
        <source>has a structure</source>
        <translation>porte une structure</translation>
    </message>
    <message>
        <source>has no structure</source>
        <translation>ne porte pas de structure</translation>
    </message>
    <message>
        <source>has no entry for it</source>
        <translation>n&apos;a pas d&apos;entrée pour elle</translation>
    </message>
    <message>
        <source>has one</source>
        <translation>en a une</translation>
    </message>
    <message>
        <source>The event log has an event at tick %1, at or before the snapshot&apos;s tick %2.</source>
        <translation>Le journal des événements a un événement au tick %1, au tick %2 de l&apos;instantané ou avant.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: a join after an action.</source>
        <translation>Tick %1, événement %2 : une arrivée après une action.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: &apos;%3&apos; joined as player %4 in the log but as player %5 in the replay.</source>
        <translation>Tick %1, événement %2 : « %3 » est arrivé comme joueur %4 dans le journal mais comme joueur %5 dans la relecture.</translation>
    </message>
    <message>
        <source>Tick %1, event %2: the log says %3 but the replay says %4.</source>
        <translation>Tick %1, événement %2 : le journal dit %3 mais la relecture dit %4.</translation>
    </message>
    <message>
        <source>The replay was cancelled.</source>
        <translation>Le rejeu a été annulé.</translation>
    </message>
    <message>
        <source>it has size %1, outside 1..%2.</source>
        <translation>il a la taille %1, hors de 1..%2.</translation>
    </message>
    <message>
        <source>its snapshot at tick %1 has state hash %2, not the %3 it was saved with.</source>
        <translation>son instantané au tick %1 a l’empreinte d’état %2, pas la %3 avec laquelle il a été enregistré.</translation>
    </message>
    <message>
        <source>the replay of its event log failed: %1</source>
        <translation>le rejeu de son journal d’événements a échoué : %1</translation>
    </message>
    <message>
        <source>replayed to tick %1, its state hash is %2, but the world was saved at tick %3 with hash %4.</source>
        <translation>rejoué jusqu’au tick %1, son empreinte d’état est %2, mais le monde a été enregistré au tick %3 avec l’empreinte %4.</translation>
    </message>
</context>
<context>
    <name>hex::server::persistence::SqlWorldStore</name>
    <message>
        <source>The database URL &apos;%1&apos; is not valid: %2.</source>
        <translation>L&apos;URL de base de données « %1 » n&apos;est pas valide : %2.</translation>
    </message>
    <message>
        <source>The database URL &apos;%1&apos; names no database: write postgresql://user:password@host:port/database.</source>
        <translation>L&apos;URL de base de données « %1 » ne nomme aucune base : écrivez postgresql://utilisateur:motdepasse@hôte:port/base.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; names no directory: write sqlite:DIRECTORY.</source>
        <translation>« %1 » ne nomme aucun répertoire : écrivez sqlite:RÉPERTOIRE.</translation>
    </message>
    <message>
        <source>Unknown database &apos;%1&apos;: use sqlite:DIRECTORY, postgresql://user:password@host:port/database or none.</source>
        <translation>Base de données inconnue « %1 » : utilisez sqlite:RÉPERTOIRE, postgresql://utilisateur:motdepasse@hôte:port/base ou none.</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is not a valid world name: use 1 to 64 letters, digits, spaces, &apos;-&apos;, &apos;_&apos; or &apos;.&apos;, not starting with &apos;.&apos;.</source>
        <translation>« %1 » n&apos;est pas un nom de monde valide : utilisez de 1 à 64 lettres, chiffres, espaces, « - », « _ » ou « . », sans commencer par « . ».</translation>
    </message>
    <message>
        <source>No database is configured (--database none): worlds are not kept.</source>
        <translation>Aucune base de données n&apos;est configurée (--database none) : les mondes ne sont pas conservés.</translation>
    </message>
    <message>
        <source>Cannot create the directory %1 for world files.</source>
        <translation>Impossible de créer le répertoire %1 pour les fichiers de monde.</translation>
    </message>
    <message>
        <source>%1 holds no world &apos;%2&apos;.</source>
        <translation>%1 ne contient pas de monde « %2 ».</translation>
    </message>
    <message>
        <source>&apos;%1&apos; is not a valid world name.</source>
        <translation>« %1 » n&apos;est pas un nom de monde valide.</translation>
    </message>
    <message>
        <source>A world cannot be branched onto itself.</source>
        <translation>Un monde ne peut pas être dérivé sur lui-même.</translation>
    </message>
    <message>
        <source>No database is configured: there are no worlds.</source>
        <translation>Aucune base de données n&apos;est configurée : il n&apos;y a aucun monde.</translation>
    </message>
    <message>
        <source>There is no world &apos;%1&apos; in %2.</source>
        <translation>Il n&apos;y a pas de monde « %1 » dans %2.</translation>
    </message>
    <message>
        <source>A world &apos;%1&apos; exists already (%2).</source>
        <translation>Un monde « %1 » existe déjà (%2).</translation>
    </message>
    <message>
        <source>Cannot create %1.</source>
        <translation>Impossible de créer %1.</translation>
    </message>
    <message>
        <source>Cannot delete %1.</source>
        <translation>Impossible de supprimer %1.</translation>
    </message>
    <message>
        <source>cannot switch to write-ahead logging</source>
        <translation>impossible de passer en journalisation anticipée (WAL)</translation>
    </message>
    <message>
        <source>cannot set up</source>
        <translation>impossible de configurer la connexion</translation>
    </message>
    <message>
        <source>%1: the Qt Sql driver %2 is not installed.</source>
        <translation>%1 : le pilote Qt Sql %2 n&apos;est pas installé.</translation>
    </message>
    <message>
        <source>cannot open the database</source>
        <translation>impossible d&apos;ouvrir la base de données</translation>
    </message>
    <message>
        <source>%1 is damaged: %2.</source>
        <translation>%1 est endommagé : %2.</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: %2.</source>
        <translation>%1 n&apos;est pas un monde Hexsphere : %2.</translation>
    </message>
    <message>
        <source>cannot read the schema</source>
        <translation>impossible de lire le schéma</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: it holds other tables (%2) and no schema_migrations.</source>
        <translation>%1 n&apos;est pas un monde Hexsphere : il contient d&apos;autres tables (%2) et aucune table schema_migrations.</translation>
    </message>
    <message>
        <source>%1 is not a Hexsphere world: its schema_migrations table is not ours (%2).</source>
        <translation>%1 n&apos;est pas un monde Hexsphere : sa table schema_migrations n&apos;est pas la nôtre (%2).</translation>
    </message>
    <message>
        <source>%1 has schema version %2; this hexsphere-server knows up to %3. Use a newer hexsphere-server.</source>
        <translation>%1 a la version de schéma %2 ; ce hexsphere-server connaît jusqu&apos;à la version %3. Utilisez un hexsphere-server plus récent.</translation>
    </message>
    <message>
        <source>%1: cannot read the migration %2.</source>
        <translation>%1 : impossible de lire la migration %2.</translation>
    </message>
    <message>
        <source>cannot apply migration %1_%2</source>
        <translation>impossible d&apos;appliquer la migration %1_%2</translation>
    </message>
    <message>
        <source>cannot look up the world</source>
        <translation>impossible de rechercher le monde</translation>
    </message>
    <message>
        <source>%1: %2: the connection to the database is lost.</source>
        <translation>%1 : %2 : la connexion à la base de données est perdue.</translation>
    </message>
    <message>
        <source>%1: %2: there is no world &apos;%3&apos;.</source>
        <translation>%1 : %2 : il n&apos;y a pas de monde « %3 ».</translation>
    </message>
    <message>
        <source>%1: %2: %3</source>
        <translation>%1 : %2 : %3</translation>
    </message>
    <message>
        <source>%1: the connection to the database is lost.</source>
        <translation>%1 : la connexion à la base de données est perdue.</translation>
    </message>
    <message>
        <source>cannot prepare a statement</source>
        <translation>impossible de préparer une requête</translation>
    </message>
    <message>
        <source>%1: this store is for the world &apos;%2&apos;, not &apos;%3&apos;.</source>
        <translation>%1 : ce stockage est celui du monde « %2 », pas de « %3 ».</translation>
    </message>
    <message>
        <source>%1: cannot create a world: the store is read-only.</source>
        <translation>%1 : impossible de créer un monde : le stockage est en lecture seule.</translation>
    </message>
    <message>
        <source>cannot create the world &apos;%1&apos;</source>
        <translation>impossible de créer le monde « %1 »</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; exists already.</source>
        <translation>%1 : le monde « %2 » existe déjà.</translation>
    </message>
    <message>
        <source>%1: %2.</source>
        <translation>%1 : %2.</translation>
    </message>
    <message>
        <source>cannot read the world</source>
        <translation>impossible de lire le monde</translation>
    </message>
    <message>
        <source>%1: there is no world &apos;%2&apos;.</source>
        <translation>%1 : il n&apos;y a pas de monde « %2 ».</translation>
    </message>
    <message>
        <source>cannot write chunks</source>
        <translation>impossible d&apos;écrire les morceaux</translation>
    </message>
    <message>
        <source>cannot commit the snapshot of tick %1</source>
        <translation>impossible de valider l&apos;instantané du tick %1</translation>
    </message>
    <message>
        <source>cannot append the events of ticks %1..%2</source>
        <translation>impossible d&apos;ajouter les événements des ticks %1..%2</translation>
    </message>
    <message>
        <source>cannot save players</source>
        <translation>impossible d&apos;enregistrer les joueurs</translation>
    </message>
    <message>
        <source>cannot read the player &apos;%1&apos;</source>
        <translation>impossible de lire le joueur « %1 »</translation>
    </message>
    <message>
        <source>cannot read the players</source>
        <translation>impossible de lire les joueurs</translation>
    </message>
    <message>
        <source>cannot read the token key</source>
        <translation>impossible de lire la clé des jetons</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; has no token key yet.</source>
        <translation>%1 : le monde « %2 » n&apos;a pas encore de clé de jetons.</translation>
    </message>
    <message>
        <source>cannot read the events</source>
        <translation>impossible de lire les événements</translation>
    </message>
    <message>
        <source>cannot load the world &apos;%1&apos;</source>
        <translation>impossible de charger le monde « %1 »</translation>
    </message>
    <message>
        <source>%1: the world &apos;%2&apos; has no complete snapshot.</source>
        <translation>%1 : le monde « %2 » n&apos;a aucun instantané complet.</translation>
    </message>
    <message>
        <source>cannot list the worlds</source>
        <translation>impossible de lister les mondes</translation>
    </message>
    <message>
        <source>cannot copy the world to %1</source>
        <translation>impossible de copier le monde vers %1</translation>
    </message>
    <message>
        <source>%1: %2: the database is not open.</source>
        <translation>%1 : %2 : la base de données n&apos;est pas ouverte.</translation>
    </message>
    <message>
        <source>cannot rename the world to &apos;%1&apos;</source>
        <translation>impossible de renommer le monde en « %1 »</translation>
    </message>
    <message>
        <source>cannot branch the world &apos;%1&apos; to &apos;%2&apos;</source>
        <translation>impossible de dériver le monde « %1 » en « %2 »</translation>
    </message>
    <message>
        <source>A world &apos;%1&apos; exists already in %2.</source>
        <translation>Un monde « %1 » existe déjà dans %2.</translation>
    </message>
    <message>
        <source>cannot delete the world &apos;%1&apos;</source>
        <translation>impossible de supprimer le monde « %1 »</translation>
    </message>
</context>
<context>
    <name>hex::server::persistence::WriteBehind</name>
    <message>
        <source>The write-behind is running already.</source>
        <translation>L&apos;écriture différée tourne déjà.</translation>
    </message>
    <message>
        <source>The store does not open.</source>
        <translation>Le stockage ne s&apos;ouvre pas.</translation>
    </message>
    <message>
        <source>The store did not take everything in %1 ms: %2 ticks (%3 events) after tick %4 are not saved.</source>
        <translation>Le stockage n&apos;a pas tout pris en %1 ms : %2 ticks (%3 événements) après le tick %4 ne sont pas sauvegardés.</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Hexsphere</source>
        <translation>Hexsphere</translation>
    </message>
    <message>
        <source>Try --help.</source>
        <translation>Essayez --help.</translation>
    </message>
    <message>
        <source>Could not start the server: %1</source>
        <translation>Impossible de démarrer le serveur&#xa0;: %1</translation>
    </message>
    <message numerus="yes">
        <source>Starting a server for a world of %n cells…</source>
        <translation>
            <numerusform>Démarrage d’un serveur pour un monde de %n cellule…</numerusform>
            <numerusform>Démarrage d’un serveur pour un monde de %n cellules…</numerusform>
        </translation>
    </message>
    <message>
        <source>Show this help and exit.</source>
        <translation>Afficher cette aide et quitter.</translation>
    </message>
    <message>
        <source>Hexsphere: build factories on a living hexagonal planet. Without --host or --connect, opens the Start screen.</source>
        <translation>Hexsphere&#xa0;: bâtissez des usines sur une planète hexagonale vivante. Sans --host ni --connect, ouvre l’écran d’accueil.</translation>
    </message>
    <message>
        <source>Could not save the screenshot to %1.</source>
        <translation>Impossible d’enregistrer la capture d’écran dans %1.</translation>
    </message>
    <message>
        <source>Lists, branches, deletes and fast-forwards the worlds a server keeps.</source>
        <translation>Liste, dérive, supprime et fait avancer en accéléré les mondes que conserve un serveur.</translation>
    </message>
    <message>
        <source>Where worlds are kept: a directory of SQLite files (&quot;sqlite:DIR&quot; or a path) or &quot;postgresql://user:password@host:port/database&quot; (default: SQLite files in %1).</source>
        <translation>Où les mondes sont conservés : un répertoire de fichiers SQLite (« sqlite:RÉP » ou un chemin) ou « postgresql://utilisateur:motdepasse@hôte:port/base » (par défaut : des fichiers SQLite dans %1).</translation>
    </message>
    <message>
        <source>url</source>
        <translation>url</translation>
    </message>
    <message>
        <source>Lists every world.</source>
        <translation>Liste tous les mondes.</translation>
    </message>
    <message>
        <source>Copies the world SOURCE to a new world TARGET.</source>
        <translation>Copie le monde SOURCE vers un nouveau monde TARGET.</translation>
    </message>
    <message>
        <source>Deletes the world NAME and everything in it.</source>
        <translation>Supprime le monde NAME et tout ce qu’il contient.</translation>
    </message>
    <message>
        <source>Runs TICKS ticks (1..%1) of the world NAME with no player actions, through the compute workers, and saves the result. The world must not be open in a running server. Ctrl-C stops at the next tick and saves what ran.</source>
        <translation>Exécute TICKS ticks (1..%1) du monde NAME sans aucune action de joueur, au moyen des processus de calcul, et sauvegarde le résultat. Le monde ne doit pas être ouvert dans un serveur en marche. Ctrl-C arrête au tick suivant et sauvegarde ce qui a été exécuté.</translation>
    </message>
    <message>
        <source>simulate: compute worker processes, 0..%1; 0 simulates on %2 threads in this process (default: &quot;auto&quot;, as the server: %3 for worlds of size %4 and more, else 0).</source>
        <translation>simulate : processus de calcul, 0..%1 ; 0 simule sur %2 fils d’exécution dans ce processus (par défaut : « auto », comme le serveur : %3 pour les mondes de taille %4 ou plus, sinon 0).</translation>
    </message>
    <message>
        <source>count</source>
        <translation>nombre</translation>
    </message>
    <message>
        <source>simulate: how this process and its workers wake each other: futex, eventfd or signal (default: the best this kernel offers).</source>
        <translation>simulate : comment ce processus et ses processus de calcul se réveillent mutuellement : futex, eventfd ou signal (par défaut : le meilleur que ce noyau propose).</translation>
    </message>
    <message>
        <source>method</source>
        <translation>méthode</translation>
    </message>
    <message>
        <source>Usage: hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS [--workers N] [--wakeup M] [--database URL]</source>
        <translation>Utilisation : hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS [--workers N] [--wakeup M] [--database URL]</translation>
    </message>
    <message>
        <source>TICKS must be a whole number from 1 to %1, not &apos;%2&apos;.</source>
        <translation>TICKS doit être un nombre entier de 1 à %1, et non « %2 ».</translation>
    </message>
    <message>
        <source>Usage: hexsphere-server world [options] list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS</source>
        <translation>Utilisation : hexsphere-server world [options] list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS</translation>
    </message>
    <message>
        <source>Say what to do with the worlds.</source>
        <translation>Indiquez quoi faire des mondes.</translation>
    </message>
    <message>
        <source>--database: %1</source>
        <translation>--database : %1</translation>
    </message>
    <message>
        <source>--database none keeps no worlds.</source>
        <translation>--database none ne conserve aucun monde.</translation>
    </message>
    <message>
        <source>--workers and --wakeup are for &apos;simulate&apos; only.</source>
        <translation>--workers et --wakeup ne servent qu’avec « simulate ».</translation>
    </message>
    <message>
        <source>&apos;simulate&apos; takes the NAME of one world and a number of TICKS.</source>
        <translation>« simulate » attend le NAME d’un monde et un nombre de TICKS.</translation>
    </message>
    <message>
        <source>--workers must be &quot;auto&quot; or 0..%1, not &apos;%2&apos;.</source>
        <translation>--workers doit valoir « auto » ou 0..%1, et non « %2 ».</translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &apos;%1&apos;.</source>
        <translation>--wakeup doit valoir futex, eventfd ou signal, et non « %1 ».</translation>
    </message>
    <message>
        <source>&apos;list&apos; takes no arguments.</source>
        <translation>« list » n’attend aucun argument.</translation>
    </message>
    <message>
        <source>No worlds in %1.</source>
        <translation>Aucun monde dans %1.</translation>
    </message>
    <message>
        <source>NAME</source>
        <translation>NOM</translation>
    </message>
    <message>
        <source>SIZE n</source>
        <translation>TAILLE n</translation>
    </message>
    <message>
        <source>SEED</source>
        <translation>GRAINE</translation>
    </message>
    <message>
        <source>TICK</source>
        <translation>TICK</translation>
    </message>
    <message>
        <source>PLAYERS</source>
        <translation>JOUEURS</translation>
    </message>
    <message>
        <source>UPDATED</source>
        <translation>MIS À JOUR</translation>
    </message>
    <message>
        <source>ON DISK</source>
        <translation>SUR DISQUE</translation>
    </message>
    <message>
        <source>Cannot read: %1</source>
        <translation>Lecture impossible : %1</translation>
    </message>
    <message>
        <source>&apos;branch&apos; takes a SOURCE and a TARGET world.</source>
        <translation>« branch » attend un monde SOURCE et un monde TARGET.</translation>
    </message>
    <message>
        <source>Branched &apos;%1&apos; to &apos;%2&apos;.</source>
        <translation>Monde « %1 » dérivé en « %2 ».</translation>
    </message>
    <message>
        <source>&apos;delete&apos; takes the NAME of one world.</source>
        <translation>« delete » attend le NAME d’un monde.</translation>
    </message>
    <message>
        <source>Deleted the world &apos;%1&apos;.</source>
        <translation>Monde « %1 » supprimé.</translation>
    </message>
    <message>
        <source>Unknown command &apos;%1&apos;.</source>
        <translation>Commande inconnue « %1 ».</translation>
    </message>
    <message>
        <source>Hexsphere dedicated server: ticks a world and serves it over WebSocket.
Saved worlds: hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS (see hexsphere-server world --help).</source>
        <translation>Serveur dédié Hexsphere : fait tourner un monde et le sert via WebSocket.
Mondes sauvegardés : hexsphere-server world list | branch SOURCE TARGET | delete NAME | simulate NAME TICKS (voir hexsphere-server world --help).</translation>
    </message>
    <message>
        <source>signal %1 received, stopping</source>
        <translation>signal %1 reçu, arrêt en cours</translation>
    </message>
    <message>
        <source>Hexsphere compute worker. hexsphere-server starts it; it is not run by hand.</source>
        <translation>Processus de calcul Hexsphere. hexsphere-server le lance ; il ne se lance pas à la main.</translation>
    </message>
    <message>
        <source>Language of messages: en or fr (default: the system&apos;s, else en).</source>
        <translation>Langue des messages : en ou fr (par défaut : celle du système, sinon en).</translation>
    </message>
    <message>
        <source>--lang must be en or fr, not &quot;%1&quot;.</source>
        <translation>--lang doit valoir en ou fr, et non « %1 ».</translation>
    </message>
    <message>
        <source>the server process %1 is gone; exiting</source>
        <translation>le processus serveur %1 a disparu ; arrêt en cours</translation>
    </message>
    <message>
        <source>%1 bulk jobs are more than the ring holds</source>
        <translation>%1 tâches en lot, c’est plus que l’anneau ne peut en contenir</translation>
    </message>
    <message>
        <source>bulk job kind %1 does not exist</source>
        <translation>le type de tâche en lot %1 n’existe pas</translation>
    </message>
    <message>
        <source>a bulk job reads or writes outside the %1-byte segment</source>
        <translation>une tâche en lot lit ou écrit hors du segment de %1 octets</translation>
    </message>
    <message>
        <source>bulk job %1 covers cells %2..%3 of %4</source>
        <translation>la tâche en lot %1 couvre les cellules %2..%3 sur %4</translation>
    </message>
    <message>
        <source>the game content does not load: %1</source>
        <translation>le contenu du jeu ne se charge pas : %1</translation>
    </message>
    <message>
        <source>the server steps content version &quot;%1&quot;, this worker has content version &quot;%2&quot;</source>
        <translation>le serveur fait avancer le monde avec la version de contenu « %1 », ce processus de calcul a la version de contenu « %2 »</translation>
    </message>
    <message>
        <source>the segment&apos;s world is inconsistent: %1 subdivisions but %2 cells</source>
        <translation>le monde du segment est incohérent : %1 subdivisions mais %2 cellules</translation>
    </message>
    <message>
        <source>the segment&apos;s chunk split %1 does not fit %2 subdivisions</source>
        <translation>le découpage en blocs de %1 du segment ne convient pas à %2 subdivisions</translation>
    </message>
    <message>
        <source>the world is split into %1 parts; a worker takes 1 to %2</source>
        <translation>le monde est découpé en %1 parts ; un processus de calcul en accepte de 1 à %2</translation>
    </message>
    <message>
        <source>the segment&apos;s sphere does not fit its world: %1</source>
        <translation>la sphère du segment ne correspond pas à son monde : %1</translation>
    </message>
    <message>
        <source>the server&apos;s part %1 starts at cell %2, this worker&apos;s at cell %3: different programs</source>
        <translation>la part %1 du serveur commence à la cellule %2, celle de ce processus de calcul à la cellule %3 : programmes différents</translation>
    </message>
    <message>
        <source>the server&apos;s exchange for %1 parts is %2 bytes, this worker&apos;s would be %3 bytes: different programs</source>
        <translation>la zone d’échange du serveur pour %1 parts fait %2 octets, celle de ce processus de calcul ferait %3 octets : programmes différents</translation>
    </message>
    <message>
        <source>job %1 asks for phase %2, which does not exist</source>
        <translation>la tâche %1 demande la phase %2, qui n’existe pas</translation>
    </message>
    <message>
        <source>job %1 puts array %2 at bytes %3..%4, outside the %5-byte segment</source>
        <translation>la tâche %1 place le tableau %2 aux octets %3..%4, hors du segment de %5 octets</translation>
    </message>
    <message>
        <source>job %1&apos;s exchange is not aligned to 64 bytes</source>
        <translation>la zone d’échange de la tâche %1 n’est pas alignée sur 64 octets</translation>
    </message>
    <message>
        <source>Shared-memory segment to attach to.</source>
        <translation>Segment de mémoire partagée auquel s’attacher.</translation>
    </message>
    <message>
        <source>name</source>
        <translation>nom</translation>
    </message>
    <message>
        <source>Ping mode: attach to the segment and answer every wake-up with one back until the slot is told to stop.</source>
        <translation>Mode ping : s’attacher au segment et répondre à chaque réveil par un réveil en retour, jusqu’à ce que l’emplacement reçoive l’ordre de s’arrêter.</translation>
    </message>
    <message>
        <source>segment</source>
        <translation>segment</translation>
    </message>
    <message>
        <source>Worker slot in the segment (0 to %1).</source>
        <translation>Emplacement du processus de calcul dans le segment (0 à %1).</translation>
    </message>
    <message>
        <source>n</source>
        <translation>n</translation>
    </message>
    <message>
        <source>Wake-up method: futex, eventfd or signal.</source>
        <translation>Méthode de réveil : futex, eventfd ou signal.</translation>
    </message>
    <message>
        <source>Inherited eventfd the server wakes us on.</source>
        <translation>Descripteur eventfd hérité sur lequel le serveur nous réveille.</translation>
    </message>
    <message>
        <source>fd</source>
        <translation>fd</translation>
    </message>
    <message>
        <source>Inherited eventfd we wake the server on.</source>
        <translation>Descripteur eventfd hérité sur lequel nous réveillons le serveur.</translation>
    </message>
    <message>
        <source>Futex only: microseconds to spin before sleeping.</source>
        <translation>Avec futex uniquement : microsecondes d’attente active avant de s’endormir.</translation>
    </message>
    <message>
        <source>us</source>
        <translation>µs</translation>
    </message>
    <message>
        <source>Step mode: attach to the segment and run the parts it takes of every automaton phase the server asks for, until the slot is told to stop.</source>
        <translation>Mode calcul : s’attacher au segment et, pour chaque phase de l’automate demandée par le serveur, calculer les parts que ce processus prend, jusqu’à ce que l’emplacement reçoive l’ordre de s’arrêter.</translation>
    </message>
    <message>
        <source>Language of messages: en or fr.</source>
        <translation>Langue des messages : en ou fr.</translation>
    </message>
    <message>
        <source>code</source>
        <translation>langue</translation>
    </message>
    <message>
        <source>workers are started by hexsphere-server with either --step or --ping and a segment name.</source>
        <translation>les processus de calcul sont lancés par hexsphere-server avec --step ou --ping et un nom de segment.</translation>
    </message>
    <message>
        <source>--slot must be a number from 0 to %1, not &quot;%2&quot;</source>
        <translation>--slot doit être un nombre de 0 à %1, et non « %2 »</translation>
    </message>
    <message>
        <source>--wakeup must be futex, eventfd or signal, not &quot;%1&quot;</source>
        <translation>--wakeup doit valoir futex, eventfd ou signal, et non « %1 »</translation>
    </message>
    <message>
        <source>--spin-us must be a number from 0 to 1000000, not &quot;%1&quot;</source>
        <translation>--spin-us doit être un nombre de 0 à 1000000, et non « %1 »</translation>
    </message>
    <message>
        <source>--wakeup eventfd needs --eventfd-in and --eventfd-out descriptors</source>
        <translation>--wakeup eventfd nécessite les descripteurs --eventfd-in et --eventfd-out</translation>
    </message>
    <message>
        <source>job %1 hands out part %2 of a world of %3 parts</source>
        <translation>la tâche %1 distribue la partie %2 d’un monde de %3 parties</translation>
    </message>
</context>
</TS>
